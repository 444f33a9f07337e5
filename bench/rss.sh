#!/usr/bin/env bash
# Exporter RSS with three gateways configured, after N scrapes (default
# 10,000): three simulators, each with its own port, state and log
# directory, probed every second (the defaults otherwise). Target: under
# 25 MiB. Two exporters watch the same simulators in the same run, their
# scrapes alternating: A with a soft memory limit of 14 MiB, B with the
# defaults (no limit); RSS_ARGS replaces A's extra flags (e.g.
# RSS_ARGS=--runtime.memory-limit=16MiB). Each one's CPU per scrape shows
# what the limit's extra garbage collection costs.
# Each one's scrapes are sequential, as one Prometheus scrapes (two at once
# would share each collector's run, see exporter.go).
# Usage: [RSS_ARGS=...] bench/rss.sh [scrapes]
set -euo pipefail
cd "$(dirname "$0")/.."
scrapes=${1:-10000}
make -s build
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
echo "gateways:" >"$dir/exporter.yml"
for g in a b c; do
	port=$(free_port) control=$(free_port)
	mkdir -p "$dir/$g/state" "$dir/$g/logs"
	bin/openclaw-gatewaysim --port "$port" --control.listen-address "127.0.0.1:$control" \
		--state-dir "$dir/$g/state" --log-dir "$dir/$g/logs" --log.level warn &
	pids+=($!)
	echo "  - {name: $g, url: \"http://127.0.0.1:$port\", state_dir: \"$dir/$g/state\", log_dir: \"$dir/$g/logs\", probe_interval: 1s}" >>"$dir/exporter.yml"
	until curl -fs -o /dev/null "127.0.0.1:$port/healthz"; do sleep 0.2; done
done
args=${RSS_ARGS:---runtime.memory-limit=14MiB}
start_exporter() { # name port extra-flags...
	local name=$1 port=$2
	shift 2
	bin/openclaw-exporter --config.file "$dir/exporter.yml" --web.listen-address "127.0.0.1:$port" \
		--no-collector.gpu --log.level warn "$@" &
	pids+=($!)
	until curl -fs -o /dev/null "127.0.0.1:$port/metrics"; do sleep 0.2; done
	up=$(curl -fs "127.0.0.1:$port/metrics" | grep -c '^openclaw_gateway_process_up{.*} 1$' || true)
	[[ $up == 3 ]] || { echo "$name: expected 3 gateway processes found, got $up" >&2; exit 1; }
}
port_a=$(free_port)
# shellcheck disable=SC2086 # RSS_ARGS is a list of flags
start_exporter "limit" "$port_a" $args
pid_a=${pids[-1]}
port_b=$(free_port)
start_exporter "no limit" "$port_b"
pid_b=${pids[-1]}
echo "3 gateways (3 simulators, pids ${pids[*]:0:3}), all found by both exporters"
echo "exporter A: $args; exporter B: defaults (no memory limit)"
# VmRSS, and its anonymous part (the Go runtime's memory) and file part (the
# binary's pages).
rss() { awk '/^VmRSS/ {r=$2 " " $3} /^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {printf "%s (anon %s kB, file %s kB)", r, a, f}' "/proc/$1/status"; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
echo "RSS after the first scrape: A $(rss "$pid_a"), B $(rss "$pid_b")"
cpu_a=$(cpu "$pid_a") cpu_b=$(cpu "$pid_b")
# One keep-alive connection to each, as Prometheus scrapes: thousands of
# curl forks would take longer than the scrapes. A and B alternate.
python3 - "$port_a" "$port_b" "$scrapes" <<'PY'
import http.client, sys
cs = [http.client.HTTPConnection("127.0.0.1", int(p)) for p in sys.argv[1:3]]
for _ in range(int(sys.argv[3])):
    for c in cs:
        c.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            sys.exit(f"scrape: status {r.status}")
PY
hz=$(getconf CLK_TCK)
for x in "A $pid_a $port_a $cpu_a" "B $pid_b $port_b $cpu_b"; do
	read -r name pid port before <<<"$x"
	echo "exporter $name: RSS after $scrapes scrapes of 3 gateways: $(rss "$pid") (target < 25 MiB = 25600 kB);" \
		"CPU per scrape (background work included): $(awk -v a="$before" -v b="$(cpu "$pid")" -v n="$scrapes" -v hz="$hz" 'BEGIN {printf "%.2f ms", (b-a)/hz/n*1000}')"
	# Where it goes: the exporter's own Go runtime series.
	curl -fs "127.0.0.1:$port/metrics" | grep -E '^go_memstats_(heap_inuse|heap_idle|heap_released|stack_inuse|sys)_bytes |^go_gc_gomemlimit_bytes ' |
		awk '{printf "  %s %.1f MiB\n", $1, $2/1048576}'
	curl -fs "127.0.0.1:$port/metrics" | grep -E '^go_gc_duration_seconds_count ' | awk '{printf "  GC cycles %d\n", $2}'
done
