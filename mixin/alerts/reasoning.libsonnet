local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

{
  prometheusAlerts+:: {
    local c = format.config($._config),
    // Every run of the suite within the window passed too few tests.
    local degraded = |||
      max_over_time(openclaw_reasoning_pass_ratio{%(exporterSelector)s}[%(reasoningWindow)s]) < %(reasoningPassRatio)s
    ||| % c,
    // The gateway ran more than one version within the rollback window.
    // Versions are counted, not openclaw_gateway_info series: a restart or
    // a rebuild may change the build id alone, and that is no upgrade.
    local upgraded = |||
      count by (%(gatewayLabels)s) (
        count by (%(gatewayLabels)s, version) (max_over_time(openclaw_gateway_info{%(exporterSelector)s}[%(rollbackWindow)s]))
      ) > 1
    ||| % c,

    groups+: [
      {
        name: 'openclaw-reasoning',
        rules: [
          alert.new(
            c,
            'OpenClawReasoningDegraded',
            'warning',
            'none',
            '%sunless on (%s)\n%s' % [degraded, c.gatewayLabels, upgraded],
            'Reasoning quality of the model behind OpenClaw is below expectations.',
            'Every run of suite {{ $labels.suite }} against model {{ $labels.model }} of gateway {{ $labels.gateway }} in the last %(reasoningWindow)s passed fewer than %(reasoningPassRatio)s of its tests; the best run passed {{ $value | humanizePercentage }}.' % c,
            c.reasoningDegradedFor,
          ),
          alert.new(
            c,
            'OpenClawReasoningDegradedAfterUpgrade',
            'critical',
            'rollback',
            '%sand on (%s)\n%s' % [degraded, c.gatewayLabels, upgraded],
            'Reasoning quality dropped after an OpenClaw version change.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} changed version within the last %(rollbackWindow)s and every run of suite {{ $labels.suite }} against model {{ $labels.model }} since %(reasoningWindow)s ago passed fewer than %(reasoningPassRatio)s of its tests (best {{ $value | humanizePercentage }}).' % c,
            c.reasoningDegradedFor,
          ),
          alert.new(
            c,
            'OpenClawKnownBadRelease',
            'warning',
            'none',
            |||
              max by (%(gatewayLabels)s, version) (openclaw_gateway_info{%(exporterSelector)s, version=~"%(knownBadVersionRegex)s"})
            ||| % c,
            'An OpenClaw gateway runs a known-bad release.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} runs OpenClaw {{ $labels.version }}, a release with a published advisory or listed as known bad; upgrade it (the remediator refuses an upgrade to a known-bad release and never rolls back to one).',
            c.knownBadReleaseFor,
          ),
          alert.new(
            c,
            'OpenClawModelServerDown',
            'critical',
            'none',
            |||
              max_over_time(openclaw_model_server_up{%(exporterSelector)s}[%(gaugeWindow)s]) == 0
            ||| % c,
            'The model server behind OpenClaw is down.',
            'Model server {{ $labels.model }} of gateway {{ $labels.gateway }} has failed every health probe for at least %(gaugeWindow)s.' % c,
            c.modelServerDownFor,
          ),
        ],
      },
    ],
  },
}
