local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

{
  prometheusAlerts+:: {
    local c = format.config($._config),
    groups+: [
      {
        name: 'openclaw-gateway',
        interval: c.gatewayEvaluationInterval,
        rules: [
          alert.new(
            c,
            'OpenClawGatewayDown',
            'critical',
            'restart',
            |||
              (
                last_over_time(openclaw_gateway_unresponsive_seconds{%(exporterSelector)s}[%(availabilityWindow)s]) >= %(unresponsiveSeconds)s
                unless on (%(gatewayLabels)s)
                increase(openclaw_gateway_probe_failures_total{%(exporterSelector)s, endpoint="healthz", reason!="connect"}[%(availabilityWindow)s]) > 0
              )
              or
              (
                last_over_time(openclaw_gateway_unresponsive_seconds{%(exporterSelector)s}[%(availabilityWindow)s]) >= %(unresponsiveSeconds)s
                and on (%(gatewayLabels)s)
                max_over_time(openclaw_gateway_process_up{%(exporterSelector)s}[%(availabilityWindow)s]) == 0
              )
            ||| % c,
            'OpenClaw gateway is down.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has had no process, or nothing accepting connections on its port, for at least %(unresponsiveSeconds)ss.' % c,
          ),
          alert.new(
            c,
            'OpenClawGatewayHung',
            'critical',
            'restart',
            |||
              last_over_time(openclaw_gateway_unresponsive_seconds{%(exporterSelector)s}[%(availabilityWindow)s]) >= %(unresponsiveSeconds)s
              and on (%(gatewayLabels)s)
              min_over_time(openclaw_gateway_process_up{%(exporterSelector)s}[%(availabilityWindow)s]) == 1
              and on (%(gatewayLabels)s)
              increase(openclaw_gateway_probe_failures_total{%(exporterSelector)s, endpoint="healthz", reason!="connect"}[%(availabilityWindow)s]) > 0
            ||| % c,
            'OpenClaw gateway process is alive but does not answer.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has a live process, but every /healthz probe for at least %(unresponsiveSeconds)ss timed out or got a bad answer.' % c,
          ),
          alert.new(
            c,
            'OpenClawGatewayNotReady',
            'warning',
            'none',
            |||
              max_over_time(openclaw_gateway_ready{%(exporterSelector)s}[%(gaugeWindow)s]) == 0
              and on (%(gatewayLabels)s)
              min_over_time(openclaw_gateway_up{%(exporterSelector)s}[%(gaugeWindow)s]) == 1
            ||| % c,
            'OpenClaw gateway is live but not ready.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} answers /healthz but /readyz has said not ready for %(gatewayNotReadyFor)s; openclaw_gateway_readiness_check_failing names the failing checks.' % c,
            c.gatewayNotReadyFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayProbeLatencyHigh',
            'warning',
            'none',
            |||
              gateway_endpoint:openclaw_gateway_probe_duration_seconds:p99_rate%(probeLatencyWindow)s{%(exporterSelector)s, endpoint="healthz"} > %(probeLatencyP99Seconds)s
            ||| % c,
            'OpenClaw gateway answers its health probe slowly.',
            'The p99 of /healthz probes of gateway {{ $labels.gateway }} on {{ $labels.instance }} over %(probeLatencyWindow)s has been above %(probeLatencyP99Seconds)ss for %(probeLatencyFor)s; it is {{ $value | humanizeDuration }}.' % c,
            c.probeLatencyFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayProbeFailuresHigh',
            'warning',
            'none',
            |||
              gateway_endpoint:openclaw_gateway_probe_failures:ratio_rate%(rateWindow)s{%(exporterSelector)s, endpoint="healthz"} > %(probeFailureRatio)s
            ||| % c,
            'OpenClaw gateway health probes fail too often.',
            '{{ $value | humanizePercentage }} of /healthz probes of gateway {{ $labels.gateway }} on {{ $labels.instance }} failed over %(rateWindow)s (alarming above %(probeFailureRatio)s).' % c,
            c.probeFailureFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayEventLoopLagHigh',
            'warning',
            'none',
            |||
              min_over_time(openclaw_gateway_event_loop_delay_p99_seconds{%(exporterSelector)s}[%(gaugeWindow)s]) > %(eventLoopLagSeconds)s
            ||| % c,
            'OpenClaw gateway event loop is lagging.',
            'The p99 event-loop delay of gateway {{ $labels.gateway }} on {{ $labels.instance }} has stayed above %(eventLoopLagSeconds)ss for %(gaugeWindow)s; it is {{ $value | humanizeDuration }}.' % c,
            c.eventLoopLagFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayEventLoopDegraded',
            'critical',
            'restart',
            |||
              min_over_time(openclaw_gateway_event_loop_degraded{%(exporterSelector)s}[%(gaugeWindow)s]) == 1
            ||| % c,
            'OpenClaw gateway reports its event loop degraded.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has reported its own event loop degraded (delay of 1 s or more, or a saturated loop or CPU) throughout the last %(gaugeWindow)s.' % c,
            c.eventLoopDegradedFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayMultipleProcesses',
            'warning',
            'none',
            |||
              min_over_time(openclaw_gateway_processes{%(exporterSelector)s}[%(gaugeWindow)s]) > 1
            ||| % c,
            'More than one OpenClaw gateway process claims the same gateway.',
            '{{ $value }} gateway processes on {{ $labels.instance }} claim gateway {{ $labels.gateway }} (its port, or its state directory); two gateways fight over the port and the state directory.',
            c.multipleProcessesFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayRestartLoop',
            'critical',
            'none',
            |||
              changes(openclaw_gateway_process_start_time_seconds{%(exporterSelector)s}[%(restartLoopWindow)s]) >= %(restartLoopCount)s
            ||| % c,
            'OpenClaw gateway is restarting over and over.',
            'The process of gateway {{ $labels.gateway }} on {{ $labels.instance }} started {{ $value }} times in %(restartLoopWindow)s; restarting it again will not help.' % c,
          ),
          alert.new(
            c,
            'OpenClawGatewayStaleLock',
            'warning',
            'cleanup_locks',
            |||
              min_over_time(openclaw_gateway_lock_stale_files{%(exporterSelector)s}[%(gaugeWindow)s]) > 0
            ||| % c,
            'OpenClaw gateway has stale lock files.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has {{ $value }} lock files whose owner is dead or whose pid now belongs to another process.',
            c.staleLockFor,
          ),
        ],
      },
    ],
  },
}
