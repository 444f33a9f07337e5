#!/usr/bin/env bash
# `docker compose up` for real, as part of `make test`: a private Docker
# Engine (its own socket and data root, never the host's), every image that
# docker-compose.yml and the Dockerfile name made locally (no registry is
# reachable here), the stack up without Grafana, then the Go tests tagged
# dockerengine: the loop healing a hang through the real Engine API
# (deploy/compose_loop_test.go) and the docker driver against the engine
# (remediator/driver/docker_engine_test.go). Everything it started is stopped
# and removed on every exit path.
#
# Environment (the Makefile sets them): TOOLS_DIR (make tools), BASES_DIR
# (make docker-bases), COMPOSE (make compose: the docker-compose binary),
# MAKE, GO, GOTEST_FLAGS. Installs Debian's docker.io when dockerd is missing.
# Under CI=true a missing piece fails the run; elsewhere it is skipped, saying why.
set -euo pipefail

cd "$(dirname "$0")/../.."
: "${TOOLS_DIR:?}" "${BASES_DIR:?}" "${COMPOSE:?}"
go=${GO:-go}
t0=$SECONDS
say() { printf 'compose stack [%3ss] %s\n' "$((SECONDS - t0))" "$*"; }
missing() {
	if [[ ${CI:-} == true ]]; then
		echo "compose stack: $*" >&2
		exit 1
	fi
	echo "compose stack: SKIPPED: $*" >&2
	exit 0
}
fail() {
	echo "compose stack: $*" >&2
	exit 1
}

[[ $(id -u) == 0 ]] || missing "a private dockerd needs root"
if ! command -v dockerd >/dev/null; then
	command -v apt-get >/dev/null || missing "dockerd is missing and this is not Debian (package docker.io)"
	say "installing docker.io from Debian"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi
# The compose plugin and the base images: built once into the cache, here
# rather than as prerequisites of make test, which must not fail where this
# is skipped.
"${MAKE:-make}" --no-print-directory compose docker-bases
for f in "$COMPOSE" "$TOOLS_DIR/prometheus" "$TOOLS_DIR/alertmanager"; do
	[[ -x $f ]] || missing "$f is missing (make compose tools)"
done

# A short path: a unix socket's path is limited to 108 bytes.
run=$(mktemp -d /tmp/clawwatch-docker.XXXXXX)
export DOCKER_HOST=unix://$run/docker.sock
# The classic builder: the engine's BuildKit needs the buildx plugin, and
# builds here take the host's network (--network host) for the module proxy.
export DOCKER_BUILDKIT=0
# The remediator mounts the engine's socket; this one, not the host's.
export CLAWWATCH_DOCKER_SOCKET=$run/docker.sock
compose() { "$COMPOSE" --project-directory . -f docker-compose.yml "$@"; }

dockerd_pid=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [[ -n $dockerd_pid ]]; then
		if ((rc != 0)); then
			echo "compose stack: failed; the services' last log lines:" >&2
			compose logs --no-color --tail=40 >&2 2>&1
		fi
		compose down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1
		# Whatever the driver tests left, and every volume.
		ids=$(docker ps -aq 2>/dev/null)
		[[ -n $ids ]] && docker rm -f $ids >/dev/null 2>&1
		docker volume prune -f >/dev/null 2>&1
		kill -TERM "$dockerd_pid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$dockerd_pid" 2>/dev/null
		wait "$dockerd_pid" 2>/dev/null
	fi
	# The engine's containerd and shims run with paths under $run: stop any
	# that outlived it, by pid, and unmount what they left.
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		[[ $cmd == *"$run/"* ]] && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	awk -v r="$run/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$run"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# No default bridge and no iptables rules on the host: compose makes its own
# network, and loopback ports are published by the engine's proxy.
dockerd --host "$DOCKER_HOST" --data-root "$run/data" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
	--bridge none --iptables=false >"$run/dockerd.log" 2>&1 &
dockerd_pid=$!
# dockerd's own start gets 120 s, counted from here: the script's start is
# minutes earlier on a new machine (docker.io installed, compose and the base
# images built).
dockerd_started=$SECONDS
until docker version >/dev/null 2>&1; do
	if ! kill -0 "$dockerd_pid" 2>/dev/null || ((SECONDS - dockerd_started > 120)); then
		tail -20 "$run/dockerd.log" >&2
		missing "dockerd did not start"
	fi
	sleep 0.5
done
say "dockerd $(docker version --format '{{.Server.Version}}') on $DOCKER_HOST, up in $((SECONDS - dockerd_started)) s"

# The Dockerfile's base images, from BASES_DIR (make docker-bases).
for image in $(awk 'toupper($1) == "FROM" && $2 !~ /\$/ {print $2}' Dockerfile | sort -u); do
	base=$BASES_DIR/${image/:/_}
	[[ -f $base.tar ]] || missing "$base.tar is missing (make docker-bases)"
	changes=()
	while IFS= read -r c; do changes+=(--change "$c"); done <"$base.changes"
	docker import "${changes[@]}" "$base.tar" "$image" >/dev/null
	say "imported $image"
done

docker build -q --network host --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
	--build-arg BRANCH="$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)" -t clawwatch:local . >/dev/null
say "built clawwatch:local from the Dockerfile: $(docker run --rm clawwatch:local openclaw-exporter --version 2>&1 | head -1)"

# Every other image the compose file names: stand-ins built from the pinned
# binaries the tests run (TOOLS_DIR is named after the versions in
# deploy/tools, and deploy/versions_test.go holds the tags to those).
for image in $(compose config --images | sort -u); do
	case $image in
	clawwatch:local) ;;
	prom/prometheus:* | prom/alertmanager:*)
		tool=${image#prom/}
		tool=${tool%%:*}
		ctx=$run/context-$tool
		mkdir -p "$ctx"
		case $tool in
		prometheus) cp "$TOOLS_DIR/prometheus" "$TOOLS_DIR/promtool" "$ctx/" ;;
		alertmanager) cp "$TOOLS_DIR/alertmanager" "$TOOLS_DIR/amtool" "$ctx/" ;;
		esac
		docker build -q -f "deploy/localimages/$tool.Dockerfile" -t "$image" "$ctx" >/dev/null
		say "built a stand-in for $image: $("$TOOLS_DIR/$tool" --version 2>&1 | head -1)"
		;;
	grafana/grafana:*)
		say "Grafana is left out: its image cannot be pulled here, and it is not built from source" \
			"for a test; the dashboards are checked by the mixin's tests (JSON, queries against the real series)"
		;;
	*) fail "no local recipe for $image: add one here" ;;
	esac
done
services=$(compose config --services | grep -vx grafana | sort)

# shellcheck disable=SC2086 # one service a word
compose up -d --no-build --pull never $services >"$run/compose-up.log" 2>&1 ||
	fail "compose up: $(cat "$run/compose-up.log")"
say "compose up:" $services

export CLAWWATCH_DOCKER_TEST_IMAGE=clawwatch:local
# shellcheck disable=SC2086 # GOTEST_FLAGS is a list of flags
"$go" test -race -count=1 ${GOTEST_FLAGS:-} -tags dockerengine -run '^TestCompose' -v ./deploy/
say "compose loop done"
"$go" test -race -count=1 ${GOTEST_FLAGS:-} -tags dockerengine -run '^TestDockerEngine' ./remediator/driver/
say "done"
