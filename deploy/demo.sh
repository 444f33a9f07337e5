#!/usr/bin/env bash
# The demo: a simulated OpenClaw gateway on loopback, and what to try with it.
# Ctrl-C stops it and leaves nothing running.
set -euo pipefail

bin_dir=${BIN_DIR:-bin}
port=${DEMO_PORT:-28789}
control_port=${DEMO_CONTROL_PORT:-28790}
dir=${DEMO_DIR:-.demo}
token=demo-token

mkdir -p "$dir"
"$bin_dir/openclaw-gatewaysim" --port "$port" --control.listen-address "127.0.0.1:$control_port" \
	--state-dir "$dir/state" --log-dir "$dir/logs" --token "$token" --log.level warn &
sim=$!
stop() {
	trap - EXIT INT TERM
	kill -TERM "$sim" 2>/dev/null || true
	wait "$sim" 2>/dev/null || true
	echo "demo stopped; nothing left running."
}
trap stop EXIT INT TERM

gateway=http://127.0.0.1:$port
control=http://127.0.0.1:$control_port
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null "$gateway/readyz" 2>/dev/null; do
	if ! kill -0 "$sim" 2>/dev/null || ((SECONDS > deadline)); then
		echo "the simulated gateway did not become ready" >&2
		exit 1
	fi
	sleep 0.2
done

cat <<MSG

clawwatch demo: a simulated OpenClaw gateway (pid $sim) is ready.

  gateway      $gateway  (/healthz, /readyz, Control UI at /, /v1/chat/completions with token $token)
  control API  $control  (faults and state)
  logs         $dir/logs/    locks  $dir/state/tmp/

Try:
  curl -s $gateway/readyz
  curl -s -X POST $control/faults -d '{"kind":"hang"}'          # port open, nothing answers
  curl -s -m 2 $gateway/healthz || echo "hung"
  curl -s -X POST $control/faults -d '{"kind":"event_loop_stall","every":"10s","duration":"3s"}'
  curl -s -X POST $control/faults -d '{"kind":"fd_leak","per_second":50}'
  curl -s $control/state
  curl -s -X DELETE $control/faults                            # heal everything

The exporter, Prometheus, Alertmanager and the remediator join this demo as they are built.
Press Ctrl-C to stop.
MSG

wait "$sim"
