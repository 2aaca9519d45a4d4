# Sourced by scripts: the environment drydock's tests and demo run in.
# Go builds offline here, in GOPATH mode against Debian's packaged Gin.
export GOPATH="${GOPATH:-/usr/share/gocode}"
export GO111MODULE="${GO111MODULE:-off}"
# podman on these kernels needs runc and container ulimits within the machine's limits.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/crates/drydock/tests/fixtures/containers.conf}"
export DRYDOCK_TOOLS="${DRYDOCK_TOOLS:-$HOME/.cache/drydock-tools}"
export PATH="$DRYDOCK_TOOLS/venv/bin:$PATH"
