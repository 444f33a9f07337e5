local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

{
  prometheusAlerts+:: {
    local c = format.config($._config),
    // bytes spells a size the way an operator reads it.
    local bytes(n) =
      if n % (1024 * 1024 * 1024) == 0 then '%d GiB' % (n / (1024 * 1024 * 1024))
      else if n % (1024 * 1024) == 0 then '%d MiB' % (n / (1024 * 1024))
      else '%d bytes' % n,
    // The exporter reports the filesystem of the logs (role="logs") and of
    // the state (role="state") of each gateway, with its device: when both
    // directories are on one filesystem that is two series of one device.
    // One filesystem is one alert: the state's series is dropped for the
    // logs' one, whose cleanup_logs frees it. (A series without a device,
    // from an older exporter, is never dropped.)
    local oneFilesystem = |||
      unless on (%(gatewayLabels)s, device, role)
      label_replace(openclaw_filesystem_size_bytes{%(exporterSelector)s, role="logs", device!=""}, "role", "state", "", "")
    ||| % c,
    groups+: [
      {
        name: 'openclaw-logs',
        rules: [
          alert.new(
            c,
            'OpenClawLogVolumeHigh',
            'warning',
            'none',
            |||
              gateway:openclaw_log_read_bytes:rate%(rateWindow)s{%(exporterSelector)s} > %(logBytesPerSecond)s
            ||| % c,
            'OpenClaw gateway writes an unusual amount of log.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} writes {{ $value | humanize1024 }}B of log per second (alarming above %(logBytesPerSecond)s B/s); a log flood fills the disk.' % c,
            c.logVolumeFor,
          ),
          alert.new(
            c,
            'OpenClawLogDirectoryOverBudget',
            'warning',
            'cleanup_logs',
            |||
              min_over_time(openclaw_log_directory_size_bytes{%(exporterSelector)s}[%(gaugeWindow)s]) > %(logDirectoryBudgetBytes)s
            ||| % c,
            'OpenClaw gateway logs exceed the budget of their directory.',
            'The log directory {{ $labels.directory }} of gateway {{ $labels.gateway }} on {{ $labels.instance }} holds {{ $value | humanize1024 }}B, over its budget of %s.' % bytes($._config.logDirectoryBudgetBytes),
            c.logDirectoryOverBudgetFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayErrorLogBurst',
            'warning',
            'none',
            |||
              sum by (%(gatewayLabels)s, pattern) (
                increase(openclaw_log_pattern_matches_total{%(exporterSelector)s, pattern=~"%(patterns)s"}[%(errorLogBurstWindow)s])
              ) >= %(errorLogBurstCount)s
            ||| % (c { patterns: std.join('|', c.errorLogPatterns) }),
            'OpenClaw gateway logs a burst of known errors.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} logged {{ $value | humanize }} lines matching {{ $labels.pattern }} in %(errorLogBurstWindow)s.' % c,
            c.errorLogBurstFor,
            c.errorLogBurstKeepFiringFor,
          ),
          alert.new(
            c,
            'OpenClawDiskFillingUp',
            'warning',
            'cleanup_logs',
            |||
              (
                predict_linear(openclaw_filesystem_avail_bytes{%(exporterSelector)s}[%(diskFillWindow)s], %(diskFillHorizonSeconds)s) < 0
                and
                present_over_time(openclaw_filesystem_avail_bytes{%(exporterSelector)s}[%(diskFillWindow)s] offset %(diskFillMinHistory)s)
                and
                delta(openclaw_filesystem_avail_bytes{%(exporterSelector)s}[%(diskFillWindow)s]) < 0
                and
                max_over_time(openclaw_filesystem_avail_bytes{%(exporterSelector)s}[%(gaugeWindow)s])
                  / max_over_time(openclaw_filesystem_size_bytes{%(exporterSelector)s}[%(gaugeWindow)s])
                  < %(diskFillAvailRatio)s
              )
            ||| % c + oneFilesystem,
            'A filesystem of an OpenClaw gateway is filling up.',
            'At the rate of the last %s (at least %s of samples), the filesystem holding the {{ $labels.role }} of gateway {{ $labels.gateway }} ({{ $labels.path }}) on {{ $labels.instance }} is full within %s.' % [c.diskFillWindow, c.diskFillMinHistory, alert.duration($._config.diskFillHorizonSeconds)],
            c.diskFillFor,
          ),
          alert.new(
            c,
            'OpenClawDiskAlmostFull',
            'critical',
            'cleanup_logs',
            |||
              (
                1 - (
                  max_over_time(openclaw_filesystem_avail_bytes{%(exporterSelector)s}[%(gaugeWindow)s])
                    / max_over_time(openclaw_filesystem_size_bytes{%(exporterSelector)s}[%(gaugeWindow)s])
                ) > %(diskFullRatio)s
              )
            ||| % c + oneFilesystem,
            'A filesystem of an OpenClaw gateway is almost full.',
            'The filesystem holding the {{ $labels.role }} of gateway {{ $labels.gateway }} ({{ $labels.path }}) on {{ $labels.instance }} is {{ $value | humanizePercentage }} full (alarming above %(diskFullRatio)s).' % c,
            c.diskFullFor,
          ),
        ],
      },
    ],
  },
}
