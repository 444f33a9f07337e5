#!/usr/bin/env bash
# The demo: the whole clawwatch loop on loopback, without Docker. A simulated
# OpenClaw gateway, openclaw-exporter, Prometheus with the mixin's rules at
# demo timings, Alertmanager routing by the `remediation` label, and
# openclaw-remediator restarting the gateway. After a short while the gateway
# hangs with its port open; the demo narrates what each part does until the
# gateway is healthy again. Ctrl-C stops everything, leaves nothing running
# and exits 0.
#
# `make demo` builds the commands and the pinned Prometheus and Alertmanager
# first. Environment: BIN_DIR, TOOLS_DIR, DEMO_DIR (.demo), DEMO_PORT (28789)
# and the other DEMO_*_PORT (DEMO_PEOPLE_PORT: the sink that stands in for
# people, 29094), DEMO_FAULT_AFTER (seconds, 15), DEMO_EXIT=1 to
# stop once the gateway has recovered.
set -euo pipefail

bin_dir=${BIN_DIR:-bin}
tools_dir=${TOOLS_DIR:?TOOLS_DIR must point at the pinned Prometheus and Alertmanager (make demo sets it)}
port=${DEMO_PORT:-28789}
control_port=${DEMO_CONTROL_PORT:-28790}
exporter_port=${DEMO_EXPORTER_PORT:-29787}
remediator_port=${DEMO_REMEDIATOR_PORT:-29788}
prometheus_port=${DEMO_PROMETHEUS_PORT:-29090}
alertmanager_port=${DEMO_ALERTMANAGER_PORT:-29093}
people_port=${DEMO_PEOPLE_PORT:-29094}
fault_after=${DEMO_FAULT_AFTER:-15}
dir=${DEMO_DIR:-.demo}
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$dir" && mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin_dir=$(cd "$bin_dir" && pwd)
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$token" >"$dir/token"
chmod 600 "$dir/token"

pids=() sleeper=""
stop() {
	trap - EXIT INT TERM
	[[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null || true # it may have ended: set -e must not stop the cleanup here
	# The remediator may have started a new gateway: it is not our child.
	gw=$(curl -fsS -m 1 "http://127.0.0.1:$control_port/state" 2>/dev/null | sed -n 's/.*"pid":\([0-9]*\).*/\1/p') || true
	kill -TERM "${pids[@]}" $gw 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	echo "demo stopped; nothing left running."
}
trap stop EXIT
# Ctrl-C is how the demo is meant to end: stop everything and exit 0, so
# that make reports no "Error 130".
trap 'stop; exit 0' INT TERM
# pause sleeps in the background: `wait` returns at once on Ctrl-C, where a
# foreground sleep would hold the trap back until it ends.
pause() {
	sleep "$1" &
	sleeper=$!
	wait "$sleeper" || true
}
start() { # name, argv…: runs a component with its output in $dir/<name>.log
	local name=$1
	shift
	"$@" >"$dir/$name.log" 2>&1 &
	pids+=($!)
}

# Rules rendered from the mixin with the demo's windows.
(cd "$here/.." && go run ./mixin/build --root "$dir/render" --override-file deploy/demo/windows.jsonnet)

sim_argv=("$bin_dir/openclaw-gatewaysim" --port "$port" --control.listen-address "127.0.0.1:$control_port"
	--state-dir "$dir/state" --log-dir "$dir/logs" --log.level warn)
start gateway "${sim_argv[@]}"

cat >"$dir/exporter.yml" <<YAML
gateways:
  - name: demo
    url: http://127.0.0.1:$port
    state_dir: $dir/state
    log_dir: $dir/logs
    probe_interval: 1s
    probe_timeout: 500ms
YAML
start exporter "$bin_dir/openclaw-exporter" --config.file "$dir/exporter.yml" --no-collector.gpu \
	--web.listen-address "127.0.0.1:$exporter_port"

json_argv=$(printf '"%s",' "${sim_argv[@]}")
cat >"$dir/remediator.yml" <<YAML
journal:
  path: $dir/journal.db
diagnostics:
  dir: $dir/diagnostics
limits:
  cooldown: 1s
  retry_delay: 1s
targets:
  - name: demo
    url: http://127.0.0.1:$port
    state_dir: $dir/state
    log_dirs: [$dir/logs]
    stop_timeout: 3s
    verify: {timeout: 30s, interval: 200ms}
    driver:
      kind: process
      start: [${json_argv%,}]
      output: $dir/gateway-restarted.log
YAML
start remediator "$bin_dir/openclaw-remediator" serve --config.file "$dir/remediator.yml" \
	--web.bearer-token-file "$dir/token" --web.listen-address "127.0.0.1:$remediator_port" \
	--prometheus.url "http://127.0.0.1:$prometheus_port" # observes guarded upgrades

# People: a webhook sink that prints what it is told (an email or a chat
# message in real life); deploy/alertmanager/alertmanager.yml is this routing
# at production timings, with the inhibitions and email and WeChat examples.
(cd "$here/.." && go build -o "$dir/notifysink" ./deploy/demo/notifysink)
start people "$dir/notifysink" --web.listen-address "127.0.0.1:$people_port"
cat >"$dir/alertmanager.yml" <<YAML
route:
  receiver: people
  group_by: [alertname, cluster, gateway]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - receiver: remediator
      matchers: ['remediation=~".+"', 'remediation!="none"']
      continue: true
    - receiver: people
      matchers: ['alertname=~"OpenClawRemediator(CircuitOpen|ActionsFailing|JournalErrors|UpgradeFailed)"']
      repeat_interval: 5m
    - receiver: people
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname, cluster, instance, gateway]
  - source_matchers: ['alertname=~"OpenClawGateway(Down|Hung)"']
    target_matchers: ['alertname=~"OpenClawGateway(NotReady|ProbeLatencyHigh|ProbeFailuresHigh|EventLoopLagHigh|EventLoopDegraded)"']
    equal: [cluster, instance, gateway]
  - source_matchers: ['alertname=~"OpenClawGateway(Down|Hung)"']
    target_matchers: ['alertname=~"OpenClawGateway(RPCHung|RPCProbeFailing|ChannelDisconnected|ModelRuntimeDegraded|PluginsFailing)"']
    equal: [cluster, instance, gateway]
  - source_matchers: ['alertname=~"OpenClawGateway(Down|Hung)"']
    target_matchers: ['alertname=~"OpenClawReasoningDegraded(AfterUpgrade)?"']
    equal: [cluster, instance, gateway]
receivers:
  - name: people
    webhook_configs:
      - url: http://127.0.0.1:$people_port/
        send_resolved: true
  - name: remediator
    webhook_configs:
      - url: http://127.0.0.1:$remediator_port/api/v1/alerts
        send_resolved: true
        http_config:
          authorization:
            credentials_file: $dir/token
YAML
start alertmanager "$tools_dir/alertmanager" --config.file "$dir/alertmanager.yml" --storage.path "$dir/alertmanager" \
	--web.listen-address "127.0.0.1:$alertmanager_port" --cluster.listen-address=

cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [$dir/render/mixin/alerts.yaml, $dir/render/mixin/rules.yaml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:$alertmanager_port"]}]
scrape_configs:
  - job_name: openclaw
    static_configs: [{targets: ["127.0.0.1:$exporter_port"]}]
  - job_name: openclaw-remediator
    authorization: {credentials_file: $dir/token}
    static_configs: [{targets: ["127.0.0.1:$remediator_port"]}]
YAML
start prometheus "$tools_dir/prometheus" --config.file "$dir/prometheus.yml" --storage.tsdb.path "$dir/prometheus" \
	--web.listen-address "127.0.0.1:$prometheus_port"

gateway=http://127.0.0.1:$port
control=http://127.0.0.1:$control_port
metrics=http://127.0.0.1:$exporter_port/metrics
prometheus=http://127.0.0.1:$prometheus_port
alertmanager=http://127.0.0.1:$alertmanager_port
remediator=http://127.0.0.1:$remediator_port

query() { curl -fsS -m 2 "$prometheus/api/v1/query" --data-urlencode "query=$1" 2>/dev/null || true; }
deadline=$((SECONDS + 60))
until query 'openclaw_gateway_up == 1 and on() sum(up{job=~"openclaw|openclaw-remediator"}) == 2' | grep -q '"value"'; do
	for i in "${!pids[@]}"; do
		if ! kill -0 "${pids[$i]}" 2>/dev/null; then
			echo "a component exited early; its log is in $dir/:" >&2
			tail -n 5 "$dir"/*.log >&2
			exit 1
		fi
	done
	if ((SECONDS > deadline)); then
		echo "the stack did not come up within a minute; logs are in $dir/" >&2
		exit 1
	fi
	pause 0.5
done

cat <<MSG

clawwatch demo: a simulated OpenClaw gateway (pid ${pids[0]}) is ready, watched by openclaw-exporter (pid ${pids[1]}).

  gateway       $gateway   (/healthz, /readyz, Control UI at /)
  control API   $control   (inject faults: POST /faults, heal: DELETE /faults)
  exporter      $metrics
  remediator    $remediator   (bearer token in $dir/token)
  console       $remediator/console/   (incidents and approvals; sign in with the token in $dir/token)
  Prometheus    $prometheus   (API only, its web UI is not in the Go module: $prometheus/api/v1/alerts)
  Alertmanager  $alertmanager   (people are told through a webhook sink: $dir/people.log)
  logs          $dir/*.log

What the exporter sees now:
$(curl -fsS "$metrics" | grep -E '^openclaw_gateway_(up|ready|process_open_fds|lock_files)\{' | sed 's/^/  /')

In ${fault_after}s the gateway will hang with its port open (curl -X POST $control/faults -d '{"kind":"hang"}').
Press Ctrl-C to stop.
MSG

pause "$fault_after"
curl -fsS -X POST "$control/faults" -d '{"kind":"hang"}' >/dev/null
t0=$SECONDS
say() { printf '  [%3ss] %s\n' "$((SECONDS - t0))" "$*"; }
say "fault injected: the gateway accepts connections and never answers"

last_alert="" last_incident="" last_health="" recovered="" told=0
while :; do
	# What people were told since the last look, one line per alert.
	while IFS= read -r line; do
		told=$((told + 1))
		say "people told: $line"
	done < <(tail -n +$((told + 1)) "$dir/people.log" 2>/dev/null)
	health=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$gateway/readyz" || true)
	[[ $health == 200 ]] && health=healthy || health="not answering"
	if [[ $health != "$last_health" ]]; then
		say "gateway /readyz: $health"
		last_health=$health
	fi
	alert=$(query 'ALERTS{alertname="OpenClawGatewayHung"}' | grep -o '"alertstate":"[a-z]*"' | cut -d'"' -f4 | sort -u | tail -1 || true)
	alert=${alert:-inactive}
	if [[ $alert != "$last_alert" ]]; then
		say "Prometheus: OpenClawGatewayHung is $alert"
		last_alert=$alert
	fi
	incident=$(curl -fsS -m 2 -H "Authorization: Bearer $token" "$remediator/api/v1/incidents?limit=1" 2>/dev/null |
		grep -oE '"(state|decision|result|verification)": "[^"]*"' | tr -d '"' | paste -sd' ' - || true)
	if [[ -n $incident && $incident != "$last_incident" ]]; then
		say "remediator: $incident"
		last_incident=$incident
	fi
	if [[ -z $recovered && $health == healthy && $alert == inactive && -n $last_incident ]]; then
		recovered=1
		say "recovered: the gateway is healthy again (new pid $(curl -fsS -m 1 "$control/state" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')) and the alert resolved"
		echo
		echo "The journal: curl -H 'Authorization: Bearer \$(cat $dir/token)' $remediator/api/v1/incidents"
		[[ ${DEMO_EXIT:-} == 1 ]] && exit 0
		echo "Press Ctrl-C to stop."
	fi
	pause 1
done
