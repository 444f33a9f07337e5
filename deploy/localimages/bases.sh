#!/usr/bin/env bash
# Makes the base images the Dockerfile names, for a Docker host that cannot
# pull them (no registry reachable): debian:SUITE-slim from debootstrap, and
# golang:VERSION-SUITE from debootstrap plus the Go toolchain of that version
# from the Go module proxy. For each image it writes into DEST a root
# filesystem tarball and the image config for `docker import`:
# NAME_TAG.tar and NAME_TAG.changes (one --change per line), which
# stack-test.sh imports. Installs debootstrap (Debian) when it is missing.
#
# usage: bases.sh DEST IMAGE...   e.g. bases.sh DIR golang:1.26.8-bookworm debian:bookworm-slim
set -euo pipefail

dest=$1
shift
[ "$(id -u)" = 0 ] || { echo "bases.sh: debootstrap needs root" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
	echo "bases.sh: installing debootstrap from Debian"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

arch=$(dpkg --print-architecture)
work=$(mktemp -d "${TMPDIR:-/tmp}/clawwatch-bases.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest" "$work/debs"
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# rootfs IMAGE SUITE [PACKAGES]: a minimal Debian root filesystem (plus Go when
# $goroot is set) as IMAGE's tarball in DEST. The package cache is shared by
# both images.
rootfs() {
	local image=$1 suite=$2 include=${3:-} dir=$work/rootfs out=$dest/${1/:/_}
	rm -rf "$dir"
	debootstrap --variant=minbase --cache-dir="$work/debs" ${include:+--include="$include"} \
		"$suite" "$dir" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
	# As the official images: no package lists, no downloaded packages.
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
	if [ -n "${goroot:-}" ]; then
		# Module zips carry no file modes: make it writable and its
		# commands executable, as the go command does for GOTOOLCHAIN.
		cp -r "$goroot" "$dir/usr/local/go"
		chmod -R u+w,go-w "$dir/usr/local/go"
		chmod 0755 "$dir"/usr/local/go/bin/* "$dir"/usr/local/go/pkg/tool/*/*
		mkdir -p "$dir/go"
		# Builds in it reach the module proxy the way this host does: with
		# the host's trust store (which holds any egress proxy's CA).
		cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
	fi
	tar --numeric-owner -C "$dir" -cf "$out.tar.tmp" .
	mv "$out.tar.tmp" "$out.tar"
	printf '%s\n' "${changes[@]}" >"$out.changes"
	rm -rf "$dir"
}

for image in "$@"; do
	goroot=
	case $image in
	debian:*-slim)
		suite=${image#debian:}
		suite=${suite%-slim}
		changes=("ENV PATH=$path" 'CMD ["bash"]')
		rootfs "$image" "$suite"
		;;
	golang:*-*)
		tag=${image#golang:}
		version=${tag%-*} suite=${tag##*-}
		# The toolchain as a module: what `go` itself downloads for GOTOOLCHAIN.
		goroot=$(cd / && go mod download -json "golang.org/toolchain@v0.0.1-go$version.linux-$arch" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[ -f "$goroot/bin/go" ] || { echo "bases.sh: no Go $version toolchain for linux-$arch" >&2; exit 1; }
		# The official image's environment, and what it adds for cgo builds.
		changes=("ENV PATH=/go/bin:/usr/local/go/bin:$path" "ENV GOLANG_VERSION=$version"
			'ENV GOTOOLCHAIN=local' 'ENV GOPATH=/go' 'WORKDIR /go' 'CMD ["bash"]')
		rootfs "$image" "$suite" gcc,libc6-dev,make,pkg-config,ca-certificates,git
		;;
	*)
		echo "bases.sh: no recipe for $image" >&2
		exit 1
		;;
	esac
done
