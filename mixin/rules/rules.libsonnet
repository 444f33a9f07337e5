local format = import '../format.libsonnet';
// Recording rules, named level:metric:operations. The level lists the labels
// kept besides job and instance, which every rule keeps. The rate window is
// part of the name (rate5m by default) and follows _config.rateWindow.
{
  prometheusRules+:: {
    local c = format.config($._config),
    groups+: [
      {
        name: 'openclaw-gateway.rules',
        rules: [
          {
            record: 'gateway_endpoint:openclaw_gateway_probe_duration_seconds:p99_rate%(rateWindow)s' % c,
            expr: |||
              histogram_quantile(0.99,
                sum by (%(gatewayLabels)s, endpoint, le) (
                  rate(openclaw_gateway_probe_duration_seconds_bucket{%(exporterSelector)s}[%(rateWindow)s])
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
            record: 'gateway:openclaw_gateway_process_cpu_seconds:rate%(rateWindow)s' % c,
            expr: |||
              rate(openclaw_gateway_process_cpu_seconds_total{%(exporterSelector)s}[%(rateWindow)s])
            ||| % c,
          },
          {
            record: 'gateway:openclaw_gateway_process_resident_memory:ratio_limit',
            expr: |||
              openclaw_gateway_process_resident_memory_bytes{%(exporterSelector)s}
                / on (%(gatewayLabels)s)
              openclaw_gateway_process_memory_limit_bytes{%(exporterSelector)s}
            ||| % c,
          },
          {
            record: 'gateway:openclaw_gateway_process_open_fds:ratio_limit',
            expr: |||
              openclaw_gateway_process_open_fds{%(exporterSelector)s}
                / on (%(gatewayLabels)s)
              openclaw_gateway_process_max_fds{%(exporterSelector)s}
            ||| % c,
          },
        ],
      },
      {
        name: 'openclaw-logs.rules',
        rules: [
          {
            record: 'gateway_level:openclaw_log_lines:rate%(rateWindow)s' % c,
            expr: |||
              sum by (%(gatewayLabels)s, level) (rate(openclaw_log_lines_total{%(exporterSelector)s}[%(rateWindow)s]))
            ||| % c,
          },
          {
            record: 'gateway:openclaw_log_read_bytes:rate%(rateWindow)s' % c,
            expr: |||
              rate(openclaw_log_read_bytes_total{%(exporterSelector)s}[%(rateWindow)s])
            ||| % c,
          },
          {
            record: 'gateway_role_path:openclaw_filesystem_used:ratio',
            expr: |||
              1 - openclaw_filesystem_avail_bytes{%(exporterSelector)s} / openclaw_filesystem_size_bytes{%(exporterSelector)s}
            ||| % c,
          },
        ],
      },
      {
        name: 'openclaw-gpu.rules',
        rules: [
          {
            record: 'uuid:openclaw_gpu_memory_used:ratio',
            expr: |||
              openclaw_gpu_memory_used_bytes{%(exporterSelector)s} / openclaw_gpu_memory_total_bytes{%(exporterSelector)s}
            ||| % c,
          },
        ],
      },
      {
        name: 'openclaw-remediator.rules',
        rules: [
          {
            record: 'action:openclaw_remediator_action_duration_seconds:p99_rate%(rateWindow)s' % c,
            expr: |||
              histogram_quantile(0.99,
                sum by (job, instance, action, le) (
                  rate(openclaw_remediator_action_duration_seconds_bucket{%(remediatorSelector)s}[%(rateWindow)s])
                )
              )
            ||| % c,
          },
        ],
      },
    ],
  },
}
