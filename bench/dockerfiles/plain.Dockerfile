# The brief's multi-stage Dockerfile (chapter 2.1), in GOPATH mode because no Go module proxy
# is reachable here: the golang:1.19 base carries Debian's Gin sources under GOPATH.
FROM golang:1.19 AS builder
WORKDIR /usr/share/gocode/src/example.com/gin-api
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/main .

FROM alpine:3.18
WORKDIR /root/
COPY --from=builder /out/main .
EXPOSE 8080
CMD ["./main"]
