#!/usr/bin/env bash
# Exporter RSS with three gateways configured, after N scrapes (default
# 10,000): three simulators, each with its own port, state and log
# directory, probed every second (the defaults otherwise). Target: under
# 25 MiB. Scrapes are sequential, as one Prometheus scrapes (two at once
# would share each collector's run, see exporter.go).
# Usage: bench/rss.sh [scrapes]
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
exporter_port=$(free_port)
bin/openclaw-exporter --config.file "$dir/exporter.yml" --web.listen-address "127.0.0.1:$exporter_port" \
	--no-collector.gpu --log.level warn &
exporter=$!
pids+=("$exporter")
until curl -fs -o /dev/null "127.0.0.1:$exporter_port/metrics"; do sleep 0.2; done
up=$(curl -fs "127.0.0.1:$exporter_port/metrics" | grep -c '^openclaw_gateway_process_up{.*} 1$' || true)
[[ $up == 3 ]] || { echo "expected 3 gateway processes found, got $up" >&2; exit 1; }
echo "3 gateways (3 simulators, pids ${pids[*]:0:3}), all found"
echo "RSS after the first scrape: $(awk '/VmRSS/ {print $2, $3}' /proc/$exporter/status)"
# One keep-alive connection, as Prometheus scrapes: thousands of curl forks
# would take longer than the scrapes.
python3 - "$exporter_port" "$scrapes" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    c.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"scrape: status {r.status}")
PY
echo "RSS after $scrapes scrapes of 3 gateways: $(awk '/VmRSS/ {print $2, $3}' /proc/$exporter/status) (target < 25 MiB = 25600 kB)"
# Where it goes: the exporter's own Go runtime series.
curl -fs "127.0.0.1:$exporter_port/metrics" | grep -E '^go_memstats_(heap_inuse|heap_idle|heap_released|stack_inuse|sys)_bytes ' |
	awk '{printf "  %s %.1f MiB\n", $1, $2/1048576}'
