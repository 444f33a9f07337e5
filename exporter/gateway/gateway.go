// Package gateway probes a gateway's /healthz and /readyz in the background,
// and with a token its WebSocket RPC (handshake and the health call), and
// serves the latest results at scrape time, so a gateway that accepts
// connections and never answers neither slows nor fails a scrape.
package gateway

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/series"
	"github.com/clawwatch/clawwatch/exporter/target"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

var (
	upDesc = prometheus.NewDesc("openclaw_gateway_up",
		"1 if the last /healthz probe got the liveness answer in time.", []string{"gateway"}, nil)
	readyDesc = prometheus.NewDesc("openclaw_gateway_ready",
		"1 if the last /readyz probe said ready.", []string{"gateway"}, nil)
	failingDesc = prometheus.NewDesc("openclaw_gateway_readiness_check_failing",
		"1 for each check the last /readyz listed as failing.", []string{"gateway", "check"}, nil)
	uptimeDesc = prometheus.NewDesc("openclaw_gateway_uptime_seconds",
		"Uptime the gateway reported in /readyz.", []string{"gateway"}, nil)
	delayP99Desc = prometheus.NewDesc("openclaw_gateway_event_loop_delay_p99_seconds",
		"p99 event-loop delay over the gateway's last monitor interval.", []string{"gateway"}, nil)
	delayMaxDesc = prometheus.NewDesc("openclaw_gateway_event_loop_delay_window_max_seconds",
		"Maximum event-loop delay over the last monitor interval.", []string{"gateway"}, nil)
	utilDesc = prometheus.NewDesc("openclaw_gateway_event_loop_utilization_ratio",
		"Event-loop utilization (0-1) over the last monitor interval.", []string{"gateway"}, nil)
	cpuDesc = prometheus.NewDesc("openclaw_gateway_event_loop_cpu_core_ratio",
		"CPU of the gateway in cores over its last monitor interval.", []string{"gateway"}, nil)
	degradedDesc = prometheus.NewDesc("openclaw_gateway_event_loop_degraded",
		"1 if /readyz reports the event loop degraded.", []string{"gateway"}, nil)
	infoDesc = prometheus.NewDesc("openclaw_gateway_info",
		"The running gateway's version and build id.", []string{"gateway", "version", "build"}, nil)
	lastProbeDesc = prometheus.NewDesc("openclaw_gateway_last_probe_timestamp_seconds",
		"When the last completed /healthz probe started.", []string{"gateway"}, nil)
	unresponsiveDesc = prometheus.NewDesc("openclaw_gateway_unresponsive_seconds",
		"Seconds since the current run of failed /healthz probes started.", []string{"gateway"}, nil)
)

// Prober probes one gateway on its interval.
type Prober struct {
	t        *target.Target
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
	rpc      *rpcProber // nil without a token
	metrics  series.Cache

	mu      sync.Mutex
	state   state
	version versionState

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type state struct {
	probed time.Time
	up     bool
	// unresponsiveSince is when the first failed /healthz probe of the
	// current run started, zero after one that answered. The alerts read how
	// long the gateway has been unresponsive from it instead of a range
	// window, so they fire as soon as the run is long enough, and one lost
	// probe or scrape neither starts nor resets them.
	unresponsiveSince time.Time
	ready             bool
	readyz            *openclaw.Readyz // nil until a /readyz body decoded
	failing           []string
}

type versionState struct {
	v       openclaw.Version
	proc    openclaw.Process
	at      time.Time
	checked bool
	// unsettled: the last discovery failed, or it was the first for its
	// process, or it changed the version; it is checked again after
	// versionRetry until two in a row agree.
	unsettled bool
}

// versionRetry is how soon an unsettled version is discovered again. A
// gateway that just started can answer /healthz before its Control UI page
// (or under load the page times out), and a discovery right at a swap can
// see the install or page of either release; trusting that one answer for
// the whole version interval would show a wrong version for minutes after
// an upgrade.
const versionRetry = 10 * time.Second

// New creates a prober; Start runs it.
func New(t *target.Target) *Prober {
	p := &Prober{
		t: t,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "openclaw_gateway_probe_duration_seconds",
			Help: "Duration of successful /healthz and /readyz probes.",
			// Around what the alert and the dashboard judge by (normal
			// below 100 ms, alarming above 500 ms: both bounds here), up to
			// 5 s, the longest probe_timeout at the default interval:
			// failed probes are counted, not timed.
			Buckets:     []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5},
			ConstLabels: prometheus.Labels{"gateway": t.Config.Name},
		}, []string{"endpoint"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "openclaw_gateway_probe_failures_total",
			Help:        "Failed probes by endpoint and reason.",
			ConstLabels: prometheus.Labels{"gateway": t.Config.Name},
		}, []string{"endpoint", "reason"}),
	}
	for _, e := range openclaw.Endpoints {
		p.duration.WithLabelValues(e)
		for _, r := range openclaw.ProbeReasons {
			p.failures.WithLabelValues(e, r)
		}
	}
	p.rpc = newRPCProber(p)
	return p
}

// Start probes at once and then every probe interval until Stop; the RPC
// probe, when configured, likewise on its own interval.
func (p *Prober) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.every(ctx, time.Duration(p.t.Config.ProbeInterval), p.ProbeOnce)
	if p.rpc != nil {
		p.every(ctx, p.rpc.interval, p.rpc.probeOnce)
	}
}

// every runs probe at once and then every interval until ctx ends.
func (p *Prober) every(ctx context.Context, interval time.Duration, probe func(context.Context)) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			probe(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the background probes and waits for them.
func (p *Prober) Stop() {
	if p.cancel != nil {
		p.cancel()
		p.wg.Wait()
	}
}

// ProbeOnce runs one round of probes and, when due, version discovery.
func (p *Prober) ProbeOnce(ctx context.Context) {
	start := time.Now()
	hp := openclaw.HTTPProbe{Client: p.t.Client, URL: p.t.Config.URL, Timeout: time.Duration(p.t.Config.ProbeTimeout)}
	up := p.observe(ctx, openclaw.EndpointHealthz, func() error {
		_, err := hp.Healthz(ctx)
		return err
	})
	var rz openclaw.Readyz
	readyOK := p.observe(ctx, openclaw.EndpointReadyz, func() (err error) {
		rz, err = hp.Readyz(ctx)
		return err
	})

	p.mu.Lock()
	since := p.state.unresponsiveSince
	switch {
	case up:
		since = time.Time{}
	case since.IsZero():
		since = start
	}
	p.state = state{probed: start, up: up, unresponsiveSince: since}
	if readyOK {
		p.state.ready = rz.Ready
		p.state.readyz = &rz
		p.state.failing = rz.Failing
	}
	p.mu.Unlock()
	if up {
		p.refreshVersion(ctx)
	}
}

// observe runs one probe (openclaw.HTTPProbe: its deadline, accepted codes,
// body cap and failure reasons) and records its duration or its failure.
func (p *Prober) observe(ctx context.Context, endpoint string, probe func() error) bool {
	start := time.Now()
	err := probe()
	if err == nil {
		// Successful probes only: a timeout is a failure, not a latency,
		// and must not raise the latency alert as well.
		p.duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		return true
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return false // shutting down: not the gateway's failure
	}
	reason := openclaw.ProbeReasonConnect
	var pe *openclaw.ProbeError
	if errors.As(err, &pe) {
		reason = pe.Reason
	}
	p.failures.WithLabelValues(endpoint, reason).Inc()
	p.t.Logger.Debug("probe failed", "endpoint", endpoint, "reason", reason, "err", err)
	return false
}

// refreshVersion re-reads the version when the process changed or the slow
// interval passed, so that an upgrade or rollback shows in
// openclaw_gateway_info.
func (p *Prober) refreshVersion(ctx context.Context) {
	proc, _, _ := p.t.Process()
	p.mu.Lock()
	every := time.Duration(p.t.Config.VersionInterval)
	if p.version.unsettled {
		every = min(every, versionRetry)
	}
	due := !p.version.checked || proc != p.version.proc || time.Since(p.version.at) >= every
	p.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(p.t.Config.ProbeTimeout))
	defer cancel()
	v, err := openclaw.DiscoverVersion(ctx, p.t.Client, p.t.Config.URL, p.t.Procs, proc.PID)
	if err != nil {
		p.t.Logger.Debug("version discovery failed", "err", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.version
	if err == nil && v.Version != prev.v.Version && prev.v.Version != "" {
		p.t.Logger.Info("gateway version changed", "from", prev.v.Version, "to", v.Version, "pid", proc.PID)
	}
	if err == nil {
		p.version.v = v
	}
	settled := err == nil && prev.checked && proc == prev.proc && v.Version == prev.v.Version
	p.version.proc, p.version.at, p.version.checked, p.version.unsettled = proc, time.Now(), true, !settled
}

// Update sends the cached results; it never does I/O.
func (p *Prober) Update(ch chan<- prometheus.Metric) error {
	name := p.t.Config.Name
	p.mu.Lock()
	st, v := p.state, p.version.v
	p.mu.Unlock()

	ch <- p.metrics.Gauge(upDesc, b2f(st.up), name)
	ch <- p.metrics.Gauge(readyDesc, b2f(st.ready), name)
	if !st.probed.IsZero() {
		ch <- p.metrics.Gauge(lastProbeDesc, float64(st.probed.UnixNano())/1e9, name)
	}
	var unresponsive float64
	if !st.unresponsiveSince.IsZero() {
		unresponsive = time.Since(st.unresponsiveSince).Seconds()
	}
	ch <- p.metrics.Gauge(unresponsiveDesc, unresponsive, name)
	failing := append([]string(nil), st.failing...)
	sort.Strings(failing)
	for i, c := range failing {
		if i > 0 && failing[i-1] == c {
			continue
		}
		ch <- p.metrics.Gauge(failingDesc, 1, name, c)
	}
	if rz := st.readyz; rz != nil {
		if rz.UptimeMs != nil {
			ch <- p.metrics.Gauge(uptimeDesc, *rz.UptimeMs/1000, name)
		}
		if el := rz.EventLoop; el != nil {
			ch <- p.metrics.Gauge(delayP99Desc, el.DelayP99Ms/1000, name)
			ch <- p.metrics.Gauge(delayMaxDesc, el.DelayMaxMs/1000, name)
			ch <- p.metrics.Gauge(utilDesc, el.Utilization, name)
			ch <- p.metrics.Gauge(cpuDesc, el.CPUCoreRatio, name)
			ch <- p.metrics.Gauge(degradedDesc, b2f(el.Degraded), name)
		}
	}
	if v.Version != "" {
		ch <- p.metrics.Gauge(infoDesc, 1, name, v.Version, v.Build)
	}
	p.duration.Collect(ch)
	p.failures.Collect(ch)
	p.rpc.update(ch, &p.metrics, name)
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
