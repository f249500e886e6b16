#!/usr/bin/env bash
# Lints the protos and regenerates the Go code beside them.
#
#   proto/generate.sh           lint, then write proto/**/*.pb.go
#   proto/generate.sh --check   lint, check formatting, and fail if the
#                               committed *.pb.go differ from what buf
#                               would generate (used by .ci/run)
#
# buf and the protoc plugins are installed through the Go toolchain at the
# pinned versions below into a per-version cache directory (the first buf
# build takes a few minutes); the Buf schema registry is not used.
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12 # must equal google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

tools="${DSAR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zoom-dsar-tools}"

# install <command> <version> <package>: go install into a directory of its
# own, once per version, and put that directory on PATH.
install() {
	local dir="$tools/$1-$2"
	if [ ! -x "$dir/$1" ]; then
		echo "installing $1 $2 (once)" >&2
		GOBIN="$dir" go install "$3@$2"
	fi
	PATH="$dir:$PATH"
}
install buf "$BUF_VERSION" github.com/bufbuild/buf/cmd/buf
install protoc-gen-go "$PROTOC_GEN_GO_VERSION" google.golang.org/protobuf/cmd/protoc-gen-go
install protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" google.golang.org/grpc/cmd/protoc-gen-go-grpc
export PATH

want=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
if [ "$want" != "$PROTOC_GEN_GO_VERSION" ]; then
	echo "proto/generate.sh: go.mod has google.golang.org/protobuf $want but PROTOC_GEN_GO_VERSION is $PROTOC_GEN_GO_VERSION; make them equal" >&2
	exit 1
fi

buf lint

if [ "${1:-}" != "--check" ]; then
	buf generate
	exit 0
fi

if ! buf format --diff --exit-code; then
	echo "proto/generate.sh: run 'buf format -w' (see the diff above)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
buf generate --output "$tmp"
if ! diff -r -x '*.proto' -x '*.sh' -x '*.md' proto "$tmp/proto"; then
	echo "proto/generate.sh: generated code is out of date; run proto/generate.sh and commit the result" >&2
	exit 1
fi
