#!/usr/bin/env bash
# Exporter RSS with three gateways configured, after N scrapes (default
# 10,000), against the simulator. Target: under 40 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
scrapes=${1:-10000}
make -s build
dir=$(mktemp -d)
sim_port=28910 control_port=28911 exporter_port=28912
bin/openclaw-gatewaysim --port $sim_port --control.listen-address 127.0.0.1:$control_port \
	--state-dir "$dir/state" --log-dir "$dir/logs" --log.level warn &
sim=$!
cat >"$dir/exporter.yml" <<YAML
gateways:
  - {name: a, url: "http://127.0.0.1:$sim_port", state_dir: state, log_dir: logs}
  - {name: b, url: "http://127.0.0.1:$sim_port", state_dir: state, log_dir: logs}
  - {name: c, url: "http://127.0.0.1:$sim_port", state_dir: state, log_dir: logs}
YAML
bin/openclaw-exporter --config.file "$dir/exporter.yml" --web.listen-address 127.0.0.1:$exporter_port --log.level warn &
exporter=$!
trap 'kill $exporter $sim 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
until curl -fs -o /dev/null 127.0.0.1:$exporter_port/metrics; do sleep 0.2; done
echo "RSS after the first scrape: $(awk '/VmRSS/ {print $2, $3}' /proc/$exporter/status)"
seq "$scrapes" | xargs -P 2 -I{} curl -fs -o /dev/null 127.0.0.1:$exporter_port/metrics
echo "RSS after $scrapes scrapes of 3 gateways: $(awk '/VmRSS/ {print $2, $3}' /proc/$exporter/status) (target < 40 MiB = 40960 kB)"
