local g = import 'grafana.libsonnet';
local v = import 'variables.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local sel = v.gatewaySelector(c),
    'openclaw-overview.json': g.dashboard('openclaw-overview.json', 'OpenClaw / Overview', c, v.exporter(c) + [v.gateway(c)], v.annotations(c), [
      g.stat('Healthy', 'Last /healthz probe answered {"ok":true} within the probe deadline.', 'none', [
        g.target('openclaw_gateway_up{%s}' % sel, '{{gateway}}'),
      ], mappings=g.upDownMappings),
      g.stat('Ready', 'Last /readyz probe said ready.', 'none', [
        g.target('openclaw_gateway_ready{%s}' % sel, '{{gateway}}'),
      ], mappings=g.upDownMappings),
      g.stat('Process', 'The gateway process was found (listener on the port, live lock owner or a unique gateway title).', 'none', [
        g.target('openclaw_gateway_process_up{%s}' % sel, '{{gateway}}'),
      ], mappings=g.upDownMappings),
      g.stat('Uptime', 'Uptime the gateway reports in /readyz.', 's', [
        g.target('openclaw_gateway_uptime_seconds{%s}' % sel, '{{gateway}}'),
      ]),
      g.table('Versions', 'Running version and build of each gateway; a new row is a version change.', 'none', [
        g.target('max by (%s, version, build) (openclaw_gateway_info{%s})' % [c.gatewayLabels, sel]),
      ], h=5),
      g.row('Probes'),
      g.timeseries('Probe latency p99', 'p99 of successful /healthz and /readyz probes (failures are counted, not timed). Normal below 100 ms, alarming above 500 ms.', 's', [
        g.target('histogram_quantile(0.99, sum by (%s, endpoint, le) (rate(openclaw_gateway_probe_duration_seconds_bucket{%s}[$__rate_interval])))' % [c.gatewayLabels, sel], '{{gateway}} {{endpoint}}'),
      ]),
      g.timeseries('RPC probe latency p99', 'p99 of successful RPC probes by phase: connect (TCP and WebSocket upgrade), handshake (to hello-ok), call (the health RPC). Gateways with a token_file only.', 's', [
        g.target('histogram_quantile(0.99, sum by (%s, phase, le) (rate(openclaw_gateway_rpcprobe_duration_seconds_bucket{%s}[$__rate_interval])))' % [c.gatewayLabels, sel], '{{gateway}} {{phase}}'),
      ]),
      g.timeseries('Probe failures', 'Failed probes per second by endpoint and reason (timeout, connect, status, body).', 'ops', [
        g.target('sum by (%s, endpoint, reason) (rate(openclaw_gateway_probe_failures_total{%s}[$__rate_interval])) > 0' % [c.gatewayLabels, sel], '{{gateway}} {{endpoint}} {{reason}}'),
      ]),
      g.timeseries('RPC probe', '1 while the RPC probe succeeds (0 while /healthz answers is the hidden hang), and failed RPC probes per second by reason (connect, timeout, handshake, auth, rpc_error, protocol).', 'short', [
        g.target('openclaw_gateway_rpcprobe_success{%s}' % sel, '{{gateway}} success'),
        g.target('sum by (%s, reason) (rate(openclaw_gateway_rpcprobe_failures_total{%s}[$__rate_interval])) > 0' % [c.gatewayLabels, sel], '{{gateway}} {{reason}}'),
      ]),
      g.timeseries('Failing readiness checks', 'Checks /readyz lists as failing (channel ids, startup-sidecars, gateway-draining).', 'none', [
        g.target('openclaw_gateway_readiness_check_failing{%s}' % sel, '{{gateway}} {{check}}'),
      ]),
      g.timeseries('Process starts', 'Changes of the process start time: every step is a restart.', 'short', [
        g.target('changes(openclaw_gateway_process_start_time_seconds{%s}[$__rate_interval])' % sel, '{{gateway}}'),
      ]),
      g.row('Channels'),
      g.timeseries('Channels connected', 'Per channel account, from the health RPC: 1 while connected. A gateway can answer every probe while a channel is dead.', 'none', [
        g.target('openclaw_gateway_health_channel_connected{%s}' % sel, '{{gateway}} {{channel}}/{{account}}'),
      ]),
      g.timeseries('Gateway health', 'From the health RPC: plugins that failed to load or are unavailable, agents waiting for their model runtime, and sessions over all agents.', 'short', [
        g.target('openclaw_gateway_health_plugins_with_errors{%s} + openclaw_gateway_health_plugins_unavailable{%s}' % [sel, sel], '{{gateway}} plugins failing'),
        g.target('openclaw_gateway_health_model_runtime_pending_agents{%s}' % sel, '{{gateway}} agents waiting for a model'),
        g.target('openclaw_gateway_health_sessions{%s}' % sel, '{{gateway}} sessions'),
      ]),
      g.table('Channel accounts', 'Each channel account in the last health RPC: connected, running, reconnect attempts, and seconds since it last received something.', 'none', [
        g.target('max by (%s, channel, account) (openclaw_gateway_health_channel_connected{%s})' % [c.gatewayLabels, sel]),
        g.target('max by (%s, channel, account) (openclaw_gateway_health_channel_running{%s})' % [c.gatewayLabels, sel]),
        g.target('max by (%s, channel, account) (openclaw_gateway_health_channel_reconnect_attempts{%s})' % [c.gatewayLabels, sel]),
        g.target('time() - max by (%s, channel, account) (openclaw_gateway_health_channel_last_inbound_timestamp_seconds{%s})' % [c.gatewayLabels, sel]),
      ]),
      g.row('Event loop'),
      g.timeseries('Event-loop delay', 'p99 and maximum event-loop delay from /readyz. Normal below 20 ms, alarming above 50 ms.', 's', [
        g.target('openclaw_gateway_event_loop_delay_p99_seconds{%s}' % sel, '{{gateway}} p99'),
        g.target('openclaw_gateway_event_loop_delay_window_max_seconds{%s}' % sel, '{{gateway}} max'),
      ]),
      g.timeseries('Event-loop utilization', 'Share of time the event loop was busy.', 'percentunit', [
        g.target('openclaw_gateway_event_loop_utilization_ratio{%s}' % sel, '{{gateway}}'),
      ]),
      g.timeseries('Gateway CPU', 'CPU the gateway uses, in cores, as /readyz reports it and as /proc counts it.', 'short', [
        g.target('openclaw_gateway_event_loop_cpu_core_ratio{%s}' % sel, '{{gateway}} readyz'),
        g.target('rate(openclaw_gateway_process_cpu_seconds_total{%s}[$__rate_interval])' % sel, '{{gateway}} process'),
      ]),
      g.timeseries('Event loop degraded', '1 while the gateway reports its loop degraded (delay of 1 s or more, utilization 0.95 or more, or 0.9 CPU cores).', 'none', [
        g.target('openclaw_gateway_event_loop_degraded{%s}' % sel, '{{gateway}}'),
      ]),
      g.row('Exporter'),
      g.timeseries('Collector success', '1 when the collector succeeded in the scrape; a failing collector leaves its series out.', 'none', [
        g.target('openclaw_exporter_collector_success{%s}' % v.host(c), '{{collector}} {{gateway}}'),
      ]),
      g.timeseries('Collector duration', 'Time each collector took in the scrape.', 's', [
        g.target('openclaw_exporter_collector_duration_seconds{%s}' % v.host(c), '{{collector}} {{gateway}}'),
      ]),
      g.timeseries('Exporter memory', "Resident memory and Go heap of the exporter's own process.", 'bytes', [
        g.target('process_resident_memory_bytes{%s}' % v.host(c), '{{instance}} resident'),
        g.target('go_memstats_heap_inuse_bytes{%s}' % v.host(c), '{{instance}} heap in use'),
      ]),
      g.timeseries('Exporter CPU', "CPU the exporter's own process uses, in cores.", 'short', [
        g.target('rate(process_cpu_seconds_total{%s}[$__rate_interval])' % v.host(c), '{{instance}}'),
      ]),
    ]),
  },
}
