#!/usr/bin/env bash
# The demo: a simulated OpenClaw gateway on loopback, and what to try with it.
# Ctrl-C stops it and leaves nothing running.
set -euo pipefail

bin_dir=${BIN_DIR:-bin}
port=${DEMO_PORT:-28789}
control_port=${DEMO_CONTROL_PORT:-28790}
exporter_port=${DEMO_EXPORTER_PORT:-29787}
dir=${DEMO_DIR:-.demo}
token=demo-token

mkdir -p "$dir"
"$bin_dir/openclaw-gatewaysim" --port "$port" --control.listen-address "127.0.0.1:$control_port" \
	--state-dir "$dir/state" --log-dir "$dir/logs" --token "$token" --log.level warn &
sim=$!
cat >"$dir/exporter.yml" <<YAML
gateways:
  - name: demo
    url: http://127.0.0.1:$port
    state_dir: state
    log_dir: logs
    probe_interval: 2s
    probe_timeout: 1s
YAML
"$bin_dir/openclaw-exporter" --config.file "$dir/exporter.yml" \
	--web.listen-address "127.0.0.1:$exporter_port" --log.level warn &
exporter=$!
stop() {
	trap - EXIT INT TERM
	kill -TERM "$exporter" "$sim" 2>/dev/null || true
	wait "$exporter" "$sim" 2>/dev/null || true
	echo "demo stopped; nothing left running."
}
trap stop EXIT INT TERM

gateway=http://127.0.0.1:$port
control=http://127.0.0.1:$control_port
metrics=http://127.0.0.1:$exporter_port/metrics
deadline=$((SECONDS + 30))
until curl -fsS "$metrics" 2>/dev/null | grep -q '^openclaw_gateway_up{gateway="demo"} 1'; do
	if ! kill -0 "$sim" 2>/dev/null || ! kill -0 "$exporter" 2>/dev/null || ((SECONDS > deadline)); then
		echo "the simulated gateway or the exporter did not come up" >&2
		exit 1
	fi
	sleep 0.2
done

cat <<MSG

clawwatch demo: a simulated OpenClaw gateway (pid $sim) is ready, watched by openclaw-exporter (pid $exporter).

  gateway      $gateway  (/healthz, /readyz, Control UI at /, /v1/chat/completions with token $token)
  control API  $control  (faults and state)
  metrics      $metrics
  logs         $dir/logs/    locks  $dir/state/tmp/

What the exporter sees now:
$(curl -fsS "$metrics" | grep -E '^openclaw_(gateway_(up|ready|event_loop_degraded|process_open_fds|process_resident_memory_bytes|lock_files|info)|log_read_bytes_total)\{' | sed 's/^/  /')

Try:
  curl -s $gateway/readyz
  curl -s -X POST $control/faults -d '{"kind":"hang"}'          # port open, nothing answers
  curl -s -m 2 $gateway/healthz || echo "hung"
  curl -s -X POST $control/faults -d '{"kind":"event_loop_stall","every":"10s","duration":"3s"}'
  curl -s -X POST $control/faults -d '{"kind":"fd_leak","per_second":50}'
  curl -s $control/state
  curl -s $metrics | grep -E 'openclaw_gateway_(up|event_loop|process_open_fds)'   # watch it show
  curl -s -X DELETE $control/faults                            # heal everything

Prometheus, Alertmanager and the remediator join this demo as they are built.
Press Ctrl-C to stop.
MSG

wait "$sim"
