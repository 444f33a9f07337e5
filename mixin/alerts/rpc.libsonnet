// Alerts on the RPC probe and the health snapshot it reads: the gateway's
// real request path (WebSocket handshake, then the health call), which can
// hang while /healthz still answers. Only gateways with a token_file are
// probed; without one none of these series exist and nothing here fires.
local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

{
  prometheusAlerts+:: {
    local c = format.config($._config),
    local channelDisconnected = |||
      max_over_time(openclaw_gateway_health_channel_connected{%(exporterSelector)s}[%(gaugeWindow)s]) == 0
      and on (%(gatewayLabels)s, channel, account)
      min_over_time(openclaw_gateway_health_channel_configured{%(exporterSelector)s}[%(gaugeWindow)s]) == 1
    ||| % c,
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
          // A dead channel is healed by restarting that channel alone
          // (channels.stop/start over the gateway's RPC); the gateway and
          // its other channels keep running.
          alert.new(
            c,
            'OpenClawGatewayChannelDisconnected',
            'warning',
            'restart_channel',
            channelDisconnected,
            'A channel of an OpenClaw gateway is disconnected.',
            'Channel {{ $labels.channel }} (account {{ $labels.account }}) of gateway {{ $labels.gateway }} on {{ $labels.instance }} is configured but has not been connected for %(channelDisconnectedFor)s: messages on it go unanswered while the gateway looks healthy. The remediator restarts that channel alone.' % c,
            c.channelDisconnectedFor,
          ),
          // The escalation: the same condition, much longer. A channel a
          // channel restart did not bring back gets the gateway restarted,
          // under the remediator's restart budget and circuit for the
          // gateway, so that a flapping channel cannot restart it in a loop.
          alert.new(
            c,
            'OpenClawGatewayChannelDisconnectedPersistent',
            'critical',
            'restart',
            channelDisconnected,
            'A channel of an OpenClaw gateway stays disconnected after its restart.',
            'Channel {{ $labels.channel }} (account {{ $labels.account }}) of gateway {{ $labels.gateway }} on {{ $labels.instance }} has not been connected for %(channelDisconnectedEscalateFor)s, through the restart of the channel: the remediator restarts the gateway (not in safe mode, and within its restart budget).' % c,
            c.channelDisconnectedEscalateFor,
          ),
          // Safe mode: the gateway's crash-loop breaker (3 unclean boots in
          // 5 minutes) holds its channels stopped. Restarting the gateway
          // does not lift it, so the restart action refuses; the channel
          // alert starts each channel by hand (channels.start overrides the
          // breaker), and the gateway lifts it itself once its window
          // drains without another unclean boot.
          alert.new(
            c,
            'OpenClawGatewaySafeMode',
            'critical',
            'none',
            |||
              min_over_time(openclaw_gateway_health_safe_mode_accounts{%(exporterSelector)s}[%(gaugeWindow)s]) > 0
            ||| % c,
            'An OpenClaw gateway is in safe mode after repeated unclean boots.',
            'Gateway {{ $labels.gateway }} on {{ $labels.instance }} has held {{ $value }} channel account(s) stopped for %(safeModeFor)s: its crash-loop breaker tripped after repeated unclean boots (crashes, kills, a restart loop). Find why it crashed before anything restarts it again; its channels come back through restart_channel or when the breaker window drains.' % c,
            c.safeModeFor,
          ),
          // A channel account the breaker still holds long after the
          // breaker's own 5-minute window (the gateway lifts it itself once
          // the window drains without another unclean boot): the cause is
          // gone, and a manual channels.start is the gateway's documented
          // override. A held account reports no connected at all, so
          // OpenClawGatewayChannelDisconnected does not see it.
          alert.new(
            c,
            'OpenClawGatewayChannelHeldBySafeMode',
            'warning',
            'restart_channel',
            |||
              min_over_time(openclaw_gateway_health_channel_safe_mode{%(exporterSelector)s}[%(gaugeWindow)s]) == 1
            ||| % c,
            "A channel stays held by an OpenClaw gateway's safe mode.",
            'Channel {{ $labels.channel }} (account {{ $labels.account }}) of gateway {{ $labels.gateway }} on {{ $labels.instance }} has been held stopped by the crash-loop breaker for %(channelSafeModeFor)s, while the gateway stayed up: the remediator starts it by hand (channels.start).' % c,
            c.channelSafeModeFor,
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
