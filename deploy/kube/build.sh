#!/usr/bin/env bash
# Builds the tests' Kubernetes control plane into OUT (make kube):
# kube-apiserver and kube-controller-manager from the k8s.io/kubernetes module
# at VERSION, etcd from this directory's module. Nothing comes from an image
# registry: only the Go module proxy.
#
# k8s.io/kubernetes is not meant to be built as a module: its go.work and
# go.mod point every k8s.io/* staging module at ./staging with version
# v0.0.0. Dropping those and pinning the staging modules to the release's own
# v0.MINOR.PATCH lets the module proxy serve them instead.
set -euo pipefail

out=${1:?usage: build.sh OUT VERSION}
version=${2:?usage: build.sh OUT VERSION}
go=${GO:-go}
here=$(cd "$(dirname "$0")" && pwd)
staging=v0.${version#v1.}

mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src
dir=$(cd / && "$go" mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "build.sh: k8s.io/kubernetes@$version: no module directory" >&2; exit 1; }
rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
rm -f "$src/go.work" "$src/go.work.sum"
sed -i -E \
	-e '/^[[:space:]]*k8s\.io\/[A-Za-z0-9._-]+ => \.\/staging\//d' \
	-e "s#^([[:space:]]*k8s\\.io/[A-Za-z0-9._-]+) v0\\.0\\.0( |\$)#\\1 $staging\\2#" \
	"$src/go.mod"
if grep -n -E 'staging/|k8s\.io/[A-Za-z0-9._-]+ v0\.0\.0( |$)' "$src/go.mod"; then
	echo "build.sh: $src/go.mod still points at ./staging" >&2
	exit 1
fi

start=$SECONDS
(cd "$src" && GOFLAGS=-mod=mod GOWORK=off "$go" build -trimpath -o "$out/" ./cmd/kube-apiserver ./cmd/kube-controller-manager)
echo "kube-apiserver and kube-controller-manager $version: built in $((SECONDS - start)) s"
start=$SECONDS
(cd "$here" && GOWORK=off "$go" build -trimpath -o "$out/etcd" .)
echo "etcd: built in $((SECONDS - start)) s"
rm -rf "$src"
"$out/kube-apiserver" --version
# sed reads to the end: head would leave etcd a SIGPIPE, a failure (141) under pipefail.
"$out/etcd" --version | sed -n 1p
