package gateway

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/series"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// The RPC probe's series. Its own prefix, openclaw_gateway_rpcprobe_, and
// openclaw_gateway_health_ for the snapshot: OpenClaw's diagnostics plugin
// exports openclaw_gateway_rpc_*, which measure the gateway's handling of
// every RPC from inside, not a probe from outside.
var (
	rpcConfiguredDesc = prometheus.NewDesc("openclaw_gateway_rpcprobe_configured",
		"1 if the RPC probe runs (the gateway has a token_file).", []string{"gateway"}, nil)
	rpcSuccessDesc = prometheus.NewDesc("openclaw_gateway_rpcprobe_success",
		"1 if the last RPC probe succeeded within its deadline.", []string{"gateway"}, nil)
	rpcInfoDesc = prometheus.NewDesc("openclaw_gateway_rpcprobe_info",
		"1, with the RPC protocol version of the last successful probe.", []string{"gateway", "protocol"}, nil)

	channelConfiguredDesc = prometheus.NewDesc("openclaw_gateway_health_channel_configured",
		"1 if the channel account is configured (health RPC).", []string{"gateway", "channel", "account"}, nil)
	channelRunningDesc = prometheus.NewDesc("openclaw_gateway_health_channel_running",
		"1 if the channel account is running (health RPC).", []string{"gateway", "channel", "account"}, nil)
	channelConnectedDesc = prometheus.NewDesc("openclaw_gateway_health_channel_connected",
		"1 if the channel account is connected (health RPC).", []string{"gateway", "channel", "account"}, nil)
	channelInboundDesc = prometheus.NewDesc("openclaw_gateway_health_channel_last_inbound_timestamp_seconds",
		"When the channel account last received something (health RPC).", []string{"gateway", "channel", "account"}, nil)
	channelSafeModeDesc = prometheus.NewDesc("openclaw_gateway_health_channel_safe_mode",
		"1 if the crash-loop breaker holds the channel account (health RPC).", []string{"gateway", "channel", "account"}, nil)
	channelReconnectsDesc = prometheus.NewDesc("openclaw_gateway_health_channel_reconnect_attempts",
		"Current reconnect attempts of the channel account (health RPC).", []string{"gateway", "channel", "account"}, nil)
	pluginsLoadedDesc = prometheus.NewDesc("openclaw_gateway_health_plugins_loaded",
		"Plugins the gateway loaded, from the health RPC.", []string{"gateway"}, nil)
	pluginsErrorsDesc = prometheus.NewDesc("openclaw_gateway_health_plugins_with_errors",
		"Plugins that failed to load or whose service failed (health RPC).", []string{"gateway"}, nil)
	pluginsUnavailableDesc = prometheus.NewDesc("openclaw_gateway_health_plugins_unavailable",
		"Plugins configured but unavailable (health RPC).", []string{"gateway"}, nil)
	modelDegradedDesc = prometheus.NewDesc("openclaw_gateway_health_model_runtime_degraded",
		"1 if the model runtime is degraded (health RPC).", []string{"gateway"}, nil)
	modelPendingDesc = prometheus.NewDesc("openclaw_gateway_health_model_runtime_pending_agents",
		"Agents waiting for their model runtime (health RPC).", []string{"gateway"}, nil)
	loopDegradedDesc = prometheus.NewDesc("openclaw_gateway_health_event_loop_degraded",
		"1 if the health RPC reports the event loop degraded.", []string{"gateway"}, nil)
	loopReasonDesc = prometheus.NewDesc("openclaw_gateway_health_event_loop_degraded_reason",
		"1 for each reason the health RPC gives for a degraded event loop.", []string{"gateway", "reason"}, nil)
	sessionsDesc = prometheus.NewDesc("openclaw_gateway_health_sessions",
		"Sessions over all agents, from the health RPC.", []string{"gateway"}, nil)
	hotReloadDesc = prometheus.NewDesc("openclaw_gateway_health_config_hot_reload_active",
		"1 if configuration hot reload is active (health RPC).", []string{"gateway"}, nil)
	safeModeDesc = prometheus.NewDesc("openclaw_gateway_health_safe_mode_accounts",
		"Channel accounts held by the crash-loop breaker (safe mode; health RPC).", []string{"gateway"}, nil)
)

// loopReasons is the fixed label set of the degraded reasons; a reason the
// gateway adds later counts as other.
var loopReasons = []string{openclaw.ReasonEventLoopDelay, openclaw.ReasonEventLoopUtilization, openclaw.ReasonCPU, "other"}

// rpcPhases label the duration histogram of successful probes.
var rpcPhases = []string{"connect", "handshake", "call"}

// maxChannelAccounts bounds the channel series of one gateway: accounts are
// configured by people, but a snapshot is data from the network.
const maxChannelAccounts = 64

// probeFunc is openclaw.ProbeHealth; tests replace it.
type probeFunc func(ctx context.Context, addr, token string) (*openclaw.HealthSnapshot, openclaw.RPCTimings, error)

// rpcProber runs the RPC probe of one gateway: the gateway's real request
// path, which can hang while /healthz still answers.
type rpcProber struct {
	addr, token       string
	interval, timeout time.Duration
	probe             probeFunc
	duration          *prometheus.HistogramVec
	failures          *prometheus.CounterVec
	logDebug          func(msg string, args ...any)

	mu     sync.Mutex
	probed bool
	snap   *openclaw.HealthSnapshot // the last probe's, nil when it failed
}

func newRPCProber(p *Prober) *rpcProber {
	cfg := p.t.Config
	if cfg.Token() == "" {
		return nil
	}
	r := &rpcProber{
		addr:     cfg.RPCAddr(),
		token:    cfg.Token(),
		interval: time.Duration(cfg.RPCInterval),
		timeout:  min(time.Duration(cfg.ProbeTimeout), time.Duration(cfg.RPCInterval)),
		probe:    openclaw.ProbeHealth,
		logDebug: p.t.Logger.Debug,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "openclaw_gateway_rpcprobe_duration_seconds",
			Help: "Duration of successful RPC probes by phase.",
			// From 5 ms, below which a phase's latency says nothing to
			// act on, to the default timeout (3 s): a phase that does
			// not finish in time is a failure, not a duration.
			Buckets:     []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
			ConstLabels: prometheus.Labels{"gateway": cfg.Name},
		}, []string{"phase"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "openclaw_gateway_rpcprobe_failures_total",
			Help:        "Failed RPC probes by reason.",
			ConstLabels: prometheus.Labels{"gateway": cfg.Name},
		}, []string{"reason"}),
	}
	for _, ph := range rpcPhases {
		r.duration.WithLabelValues(ph)
	}
	for _, reason := range openclaw.RPCReasons {
		r.failures.WithLabelValues(reason)
	}
	return r
}

// probeOnce runs one RPC probe and keeps its snapshot.
func (r *rpcProber) probeOnce(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	snap, tm, err := r.probe(pctx, r.addr, r.token)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return // shutting down: not the gateway's failure
		}
		reason := openclaw.RPCReasonProtocol
		var re *openclaw.RPCError
		if errors.As(err, &re) && slices.Contains(openclaw.RPCReasons, re.Reason) {
			reason = re.Reason
		}
		r.failures.WithLabelValues(reason).Inc()
		r.logDebug("rpc probe failed", "reason", reason, "err", err)
		snap = nil
	} else {
		r.duration.WithLabelValues("connect").Observe(tm.Connect.Seconds())
		r.duration.WithLabelValues("handshake").Observe(tm.Handshake.Seconds())
		r.duration.WithLabelValues("call").Observe(tm.Call.Seconds())
	}
	r.mu.Lock()
	r.probed, r.snap = true, snap
	r.mu.Unlock()
}

// update sends the RPC probe's series. A failed probe leaves only the
// probe's own series: a snapshot from before the failure would pretend to
// know the gateway's state now.
func (r *rpcProber) update(ch chan<- prometheus.Metric, metrics *series.Cache, name string) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- metrics.Gauge(d, v, append(append(make([]string, 0, 3), name), labels...)...)
	}
	if r == nil {
		gauge(rpcConfiguredDesc, 0)
		return
	}
	gauge(rpcConfiguredDesc, 1)
	r.mu.Lock()
	probed, s := r.probed, r.snap
	r.mu.Unlock()
	if probed {
		gauge(rpcSuccessDesc, b2f(s != nil))
	}
	r.duration.Collect(ch)
	r.failures.Collect(ch)
	if s == nil {
		return
	}
	gauge(rpcInfoDesc, 1, strconv.Itoa(s.ProtocolVersion))
	for i, c := range s.Channels {
		if i == maxChannelAccounts {
			r.logDebug("channel accounts over the limit left out", "limit", maxChannelAccounts, "accounts", len(s.Channels))
			break
		}
		for _, f := range [...]struct {
			d *prometheus.Desc
			v *bool
		}{{channelConfiguredDesc, c.Configured}, {channelRunningDesc, c.Running}, {channelConnectedDesc, c.Connected}} {
			if f.v != nil {
				gauge(f.d, b2f(*f.v), c.Channel, c.Account)
			}
		}
		if c.LastInboundAt != nil {
			gauge(channelInboundDesc, float64(c.LastInboundAt.UnixMilli())/1e3, c.Channel, c.Account)
		}
		if c.Restarts != nil {
			gauge(channelReconnectsDesc, float64(*c.Restarts), c.Channel, c.Account)
		}
		gauge(channelSafeModeDesc, b2f(c.SafeMode), c.Channel, c.Account)
	}
	gauge(pluginsLoadedDesc, float64(s.PluginsLoaded))
	gauge(pluginsErrorsDesc, float64(s.PluginsErrors))
	gauge(pluginsUnavailableDesc, float64(s.PluginsUnavailable))
	gauge(sessionsDesc, float64(s.Sessions))
	// Over every account, not only the first maxChannelAccounts: safe
	// mode is the gateway's state, which a long channel list must not hide.
	gauge(safeModeDesc, float64(s.SafeModeAccounts()))
	if s.ModelRuntimeReported {
		gauge(modelDegradedDesc, b2f(s.ModelRuntimeDegraded))
		gauge(modelPendingDesc, float64(s.ModelRuntimePendingAgents))
	}
	if s.EventLoopReported {
		gauge(loopDegradedDesc, b2f(s.EventLoopDegraded))
		active := map[string]bool{}
		for _, reason := range s.EventLoopReasons {
			if !slices.Contains(loopReasons, reason) {
				reason = "other"
			}
			active[reason] = true
		}
		for _, reason := range loopReasons {
			gauge(loopReasonDesc, b2f(active[reason]), reason)
		}
	}
	// The gateway's schema allows "active" and "disabled"; anything else
	// is left out rather than guessed.
	switch s.ConfigHotReloadStatus {
	case "active":
		gauge(hotReloadDesc, 1)
	case "disabled":
		gauge(hotReloadDesc, 0)
	}
}
