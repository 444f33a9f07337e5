local format = import '../format.libsonnet';
// Recording rules, named level:metric:operations. The level lists the labels
// kept besides the cluster, job and instance, which every rule keeps. The rate
// window is part of the name (rate5m by default) and follows
// _config.rateWindow (the probe latency's, _config.probeLatencyWindow). Each rule is read by an alert or a panel
// (TestRecordingRulesAreUsed) and has a promql_expr_test in tests/rules.yaml.
{
  prometheusRules+:: {
    local c = format.config($._config),
    groups+: [
      {
        name: 'openclaw-gateway.rules',
        rules: [
          {
            // Over _config.probeLatencyWindow, not rateWindow: enough probes
            // that the p99 is not the slowest one alone.
            record: 'gateway_endpoint:openclaw_gateway_probe_duration_seconds:p99_rate%(probeLatencyWindow)s' % c,
            expr: |||
              histogram_quantile(0.99,
                sum by (%(gatewayLabels)s, endpoint, le) (
                  rate(openclaw_gateway_probe_duration_seconds_bucket{%(exporterSelector)s}[%(probeLatencyWindow)s])
                )
              )
            ||| % c,
          },
          {
            // The duration histogram counts successful probes only (a
            // timeout is no latency), so all probes are failures + successes.
            record: 'gateway_endpoint:openclaw_gateway_probe_failures:ratio_rate%(rateWindow)s' % c,
            expr: |||
              sum by (%(gatewayLabels)s, endpoint) (rate(openclaw_gateway_probe_failures_total{%(exporterSelector)s}[%(rateWindow)s]))
                /
              (
                sum by (%(gatewayLabels)s, endpoint) (rate(openclaw_gateway_probe_failures_total{%(exporterSelector)s}[%(rateWindow)s]))
                  +
                sum by (%(gatewayLabels)s, endpoint) (rate(openclaw_gateway_probe_duration_seconds_count{%(exporterSelector)s}[%(rateWindow)s]))
              )
            ||| % c,
          },
          {
            // The limit the memory alerts judge by: the exporter's
            // memory_limit_bytes or the process's cgroup limit
            // (openclaw_gateway_process_memory_limit_bytes), else, on a
            // host without either, _config.memoryLimitBytes.
            record: 'gateway:openclaw_gateway_process_memory_limit_bytes:effective',
            expr: (|||
                     openclaw_gateway_process_memory_limit_bytes{%(exporterSelector)s}
                   ||| + (if $._config.memoryLimitBytes > 0 then |||
                            or on (%(gatewayLabels)s)
                            0 * openclaw_gateway_process_resident_memory_bytes{%(exporterSelector)s} + %(memoryLimitBytes)s
                          ||| else '')) % c,
          },
        ],
      },
      {
        name: 'openclaw-logs.rules',
        rules: [
          {
            record: 'gateway:openclaw_log_read_bytes:rate%(rateWindow)s' % c,
            expr: |||
              rate(openclaw_log_read_bytes_total{%(exporterSelector)s}[%(rateWindow)s])
            ||| % c,
          },
        ],
      },
    ],
  },
}
