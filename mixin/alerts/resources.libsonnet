local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

{
  prometheusAlerts+:: {
    local c = format.config($._config),
    // The usage of a gateway against its limit, both read over the gauge
    // window so that a failed scrape of either side does not break the join.
    // Memory is judged against the limit the recording rule chooses: the
    // configured or cgroup limit, else _config.memoryLimitBytes.
    local usage(metric, limit) = |||
      min_over_time(%(metric)s{%(exporterSelector)s}[%(gaugeWindow)s])
        / on (%(gatewayLabels)s)
      max_over_time(%(limit)s{%(exporterSelector)s}[%(gaugeWindow)s])
    ||| % (c { metric: metric, limit: limit }),
    // The trend of the last leak window reaches the limit within the horizon,
    // in a process older than leakMinUptimeSeconds (a fresh process grows
    // while it warms up; that is not a leak). A prediction restarts only at
    // a quiet moment (timing quiet), or asks a person; the critical alert at
    // the limit restarts at once.
    local leak(metric, limit) = |||
      predict_linear(%(metric)s{%(exporterSelector)s}[%(leakWindow)s], %(leakHorizonSeconds)s)
        > on (%(gatewayLabels)s)
      max_over_time(%(limit)s{%(exporterSelector)s}[%(gaugeWindow)s])
      and on (%(gatewayLabels)s)
      time() - max_over_time(openclaw_gateway_process_start_time_seconds{%(exporterSelector)s}[%(gaugeWindow)s]) > %(leakMinUptimeSeconds)s
    ||| % (c { metric: metric, limit: limit }),
    local memoryLimit = 'gateway:openclaw_gateway_process_memory_limit_bytes:effective',
    local connections = |||
      min_over_time(openclaw_gateway_process_tcp_connections{%(exporterSelector)s, state="established"}[%(gaugeWindow)s])
    ||| % c,

    groups+: [
      {
        name: 'openclaw-resources',
        rules: [
          alert.new(
            c,
            'OpenClawGatewayMemoryHigh',
            'warning',
            'none',
            '%s > %s\n' % [usage('openclaw_gateway_process_resident_memory_bytes', memoryLimit), c.memoryWarningRatio],
            'OpenClaw gateway uses much of its memory limit.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory limit (normal below %(memoryWarningRatio)s).' % c,
            c.memoryWarningFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayMemoryNearLimit',
            'critical',
            'restart',
            '%s > %s\n' % [usage('openclaw_gateway_process_resident_memory_bytes', memoryLimit), c.memoryCriticalRatio],
            'OpenClaw gateway is close to its memory limit.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory limit (alarming above %(memoryCriticalRatio)s); the kernel will kill it at the limit.' % c,
            c.memoryCriticalFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayMemoryLeak',
            'warning',
            'restart',
            leak('openclaw_gateway_process_resident_memory_bytes', memoryLimit),
            'OpenClaw gateway memory grows towards its limit.',
            'At the rate of the last %s, the resident memory of gateway {{ $labels.gateway }} on {{ $labels.instance }} reaches its limit within %s.' % [c.leakWindow, alert.duration($._config.leakHorizonSeconds)],
            c.leakFor,
            timing='quiet',
          ),
          alert.new(
            c,
            'OpenClawGatewayFileDescriptorsNearLimit',
            'critical',
            'restart',
            '%s > %s\n' % [usage('openclaw_gateway_process_open_fds', 'openclaw_gateway_process_max_fds'), c.fdCriticalRatio],
            'OpenClaw gateway is running out of file descriptors.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its file descriptor limit; at the limit it fails with EMFILE.',
            c.fdCriticalFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayFileDescriptorLeak',
            'warning',
            'restart',
            leak('openclaw_gateway_process_open_fds', 'openclaw_gateway_process_max_fds'),
            'OpenClaw gateway file descriptors grow towards the limit.',
            'At the rate of the last %s, the open file descriptors of gateway {{ $labels.gateway }} on {{ $labels.instance }} reach the limit within %s.' % [c.leakWindow, alert.duration($._config.leakHorizonSeconds)],
            c.fdLeakFor,
            timing='quiet',
          ),
          alert.new(
            c,
            'OpenClawGatewayTooManyConnections',
            'warning',
            'none',
            '%s > %s\n' % [connections, c.connectionsWarning],
            'OpenClaw gateway has many open connections.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has {{ $value }} established connections (normal below %(connectionsWarning)s).' % c,
            c.connectionsFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayTooManyConnections',
            'critical',
            'none',
            '%s > %s\n' % [connections, c.connectionsCritical],
            'OpenClaw gateway has many open connections.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has {{ $value }} established connections (alarming above %(connectionsCritical)s).' % c,
            c.connectionsFor,
          ),
        ],
      },
    ],
  },
}
