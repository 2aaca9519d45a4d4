# The same, written as a careful user would: the Go build cache survives between builds in a
# BuildKit cache mount, and sources are copied after everything that changes less often.
FROM golang:1.19 AS builder
WORKDIR /usr/share/gocode/src/example.com/gin-api
COPY go.mod ./
COPY static ./static
COPY *.go ./
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/main .

FROM alpine:3.18
WORKDIR /root/
COPY --from=builder /out/main .
EXPOSE 8080
USER 65532:65532
CMD ["./main"]
