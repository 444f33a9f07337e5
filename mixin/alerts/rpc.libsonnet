// Alerts on the RPC probe and the health snapshot it reads: the gateway's
// real request path (WebSocket handshake, then the health call), which can
// hang while /healthz still answers. Only gateways with a token_file are
// probed; without one none of these series exist and nothing here fires.
local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

{
  prometheusAlerts+:: {
    local c = format.config($._config),
    groups+: [
      {
        name: 'openclaw-gateway-rpc',
        rules: [
          alert.new(
            c,
            'OpenClawGatewayRPCHung',
            'critical',
            'restart',
            |||
              max_over_time(openclaw_gateway_rpcprobe_success{%(exporterSelector)s}[%(availabilityWindow)s]) == 0
              and on (%(gatewayLabels)s)
              min_over_time(openclaw_gateway_up{%(exporterSelector)s}[%(availabilityWindow)s]) == 1
              and on (%(gatewayLabels)s)
              increase(openclaw_gateway_rpcprobe_failures_total{%(exporterSelector)s, reason="timeout"}[%(availabilityWindow)s]) > 0
            ||| % c,
            'OpenClaw gateway answers /healthz but its RPC hangs.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has answered every /healthz probe for %(availabilityWindow)s, but no RPC probe succeeded in that time and they timed out: the hidden hang, where every real request times out.' % c,
            c.rpcHungFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayRPCProbeFailing',
            'warning',
            'none',
            |||
              max_over_time(openclaw_gateway_rpcprobe_success{%(exporterSelector)s}[%(gaugeWindow)s]) == 0
              and on (%(gatewayLabels)s)
              min_over_time(openclaw_gateway_up{%(exporterSelector)s}[%(gaugeWindow)s]) == 1
              unless on (%(gatewayLabels)s)
              increase(openclaw_gateway_rpcprobe_failures_total{%(exporterSelector)s, reason="timeout"}[%(gaugeWindow)s]) > 0
            ||| % c,
            'The RPC probe of an OpenClaw gateway fails without timing out.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} answers /healthz, but no RPC probe succeeded for %(gaugeWindow)s and none timed out: the gateway refuses the probe (a wrong token_file is reason="auth") or does not speak the protocol; openclaw_gateway_rpcprobe_failures_total says why.' % c,
            c.rpcProbeFailingFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayChannelDisconnected',
            'warning',
            'none',
            |||
              max_over_time(openclaw_gateway_health_channel_connected{%(exporterSelector)s}[%(gaugeWindow)s]) == 0
              and on (%(gatewayLabels)s, channel, account)
              min_over_time(openclaw_gateway_health_channel_configured{%(exporterSelector)s}[%(gaugeWindow)s]) == 1
            ||| % c,
            'A channel of an OpenClaw gateway is disconnected.',
            'Channel {{ $labels.channel }} (account {{ $labels.account }}) of gateway {{ $labels.gateway }} on {{ $labels.instance }} is configured but has not been connected for %(channelDisconnectedFor)s: messages on it go unanswered while the gateway looks healthy.' % c,
            c.channelDisconnectedFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayModelRuntimeDegraded',
            'warning',
            'none',
            |||
              min_over_time(openclaw_gateway_health_model_runtime_degraded{%(exporterSelector)s}[%(gaugeWindow)s]) == 1
            ||| % c,
            'OpenClaw gateway reports its model runtime degraded.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has reported its model runtime degraded for %(modelRuntimeDegradedFor)s: agents wait for their model (openclaw_gateway_health_model_runtime_pending_agents says how many).' % c,
            c.modelRuntimeDegradedFor,
          ),
          alert.new(
            c,
            'OpenClawGatewayPluginsFailing',
            'warning',
            'none',
            |||
              min_over_time(openclaw_gateway_health_plugins_with_errors{%(exporterSelector)s}[%(gaugeWindow)s])
                + on (%(gatewayLabels)s)
              min_over_time(openclaw_gateway_health_plugins_unavailable{%(exporterSelector)s}[%(gaugeWindow)s])
                > 0
            ||| % c,
            'Plugins of an OpenClaw gateway failed to load.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has had {{ $value }} plugin(s) that failed to load or are configured but unavailable for %(pluginsFailingFor)s; `openclaw plugins list` names them.' % c,
            c.pluginsFailingFor,
          ),
        ],
      },
    ],
  },
}
