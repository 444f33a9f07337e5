// Package exporter assembles the collectors for the configured gateways into
// one prometheus.Collector and swaps them on reload.
package exporter

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/gateway"
	"github.com/clawwatch/clawwatch/exporter/gpu"
	"github.com/clawwatch/clawwatch/exporter/locks"
	"github.com/clawwatch/clawwatch/exporter/logs"
	"github.com/clawwatch/clawwatch/exporter/process"
	"github.com/clawwatch/clawwatch/exporter/reasoning"
	"github.com/clawwatch/clawwatch/exporter/series"
	"github.com/clawwatch/clawwatch/exporter/target"
)

// collector is one concern for one gateway, in node_exporter's style: it
// sends metrics and returns an error when it could not do its job.
type collector interface {
	Update(ch chan<- prometheus.Metric) error
}

var (
	successDesc = prometheus.NewDesc("openclaw_exporter_collector_success",
		"1 if the collector succeeded in the last scrape.", []string{"collector", "gateway"}, nil)
	durationDesc = prometheus.NewDesc("openclaw_exporter_collector_duration_seconds",
		"How long the collector took in the last scrape.", []string{"collector", "gateway"}, nil)
)

// guarded is a collector with the deadline every scrape gives it. A run that
// outlives its deadline is abandoned, not stopped (Update takes no context):
// while it is still in flight the next scrape fails the collector at once
// instead of starting another, so a stuck collector costs one goroutine.
// Scrapes that arrive while a run is in flight and within its deadline (two
// Prometheus servers, or a person with curl) share that run: they wait for
// it and report its metrics, so no run is started twice and none fails.
type guarded struct {
	c   collector
	mu  sync.Mutex
	cur *flight // the run in flight; nil when none
}

// flight is one run of a collector, shared by the scrapes that wait for it.
type flight struct {
	done     chan struct{} // closed once metrics and err are set
	metrics  []prometheus.Metric
	err      error
	deadline time.Time // zero: none
	timeout  time.Duration
	waiters  int // scrapes waiting for it (under guarded.mu), for tests
}

// instance is one gateway's set of collectors.
type instance struct {
	name       string
	target     *target.Target
	prober     *gateway.Prober
	logs       *logs.Collector    // nil for a gateway on another host
	reasoning  *reasoning.Monitor // nil without models
	servers    []*target.Server   // the model servers' processes, for their GPU memory
	collectors map[string]*guarded
}

// state is what a scrape sees: replaced whole on reload, never changed in
// place, so that a scrape and the GPU collector's callback read it without a
// lock and a reload never waits for a scrape.
type state struct {
	instances []*instance
	// host collectors (gpu) are not per gateway and outlive reloads.
	host    map[string]*guarded
	timeout time.Duration
}

// Collectors are the names of the per-gateway collectors, in the order the
// exporter's flags list them: each can be switched off
// (--no-collector.<name>).
var Collectors = []string{"gateway", "process", "locks", "logs", "reasoning", "model_server"}

// Option changes how New builds the exporter.
type Option func(*Exporter)

// WithoutCollectors leaves out the named per-gateway collectors: their
// series and their openclaw_exporter_collector_success are absent, and what
// they run in the background (probes, log tailing, suites) is not started.
// For a collector that fails for good on a host (its files unreadable to the
// exporter's user), so that it does not alert forever.
func WithoutCollectors(names ...string) Option {
	return func(e *Exporter) {
		for _, n := range names {
			e.disabled[n] = true
		}
	}
}

// Exporter collects every configured gateway.
type Exporter struct {
	logger   *slog.Logger
	disabled map[string]bool // collector names left out
	metrics  series.Cache    // the collectors' success and duration
	state    atomic.Pointer[state]
	// mu serialises the writers (Apply, AddHostCollector, Close); readers
	// only load state.
	mu sync.Mutex
}

// New builds the collectors for cfg and starts the background probes.
func New(cfg *config.Config, logger *slog.Logger, opts ...Option) (*Exporter, error) {
	e := &Exporter{logger: logger, disabled: map[string]bool{}}
	for _, o := range opts {
		o(e)
	}
	for n := range e.disabled {
		if !slices.Contains(Collectors, n) {
			return nil, fmt.Errorf("no collector %q (there are %s)", n, strings.Join(Collectors, ", "))
		}
	}
	e.state.Store(&state{})
	if err := e.Apply(cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// Apply replaces the collectors with ones for cfg. On error the old ones
// stay in place. A scrape in flight finishes with the old ones.
func (e *Exporter) Apply(cfg *config.Config) error {
	var next []*instance
	for _, g := range cfg.Gateways {
		t, err := target.New(g, e.logger)
		if err != nil {
			for _, in := range next {
				in.stop()
			}
			return err
		}
		mon, err := reasoning.New(g, e.logger)
		if err != nil {
			for _, in := range next {
				in.stop()
			}
			return err
		}
		in := &instance{name: g.Name, target: t, prober: gateway.New(t), reasoning: mon}
		for _, m := range g.Models {
			if m.LocalPort() > 0 || m.PIDFile != "" {
				in.servers = append(in.servers, target.NewServer(m.LocalPort(), m.PIDFile))
			}
		}
		in.collectors = map[string]*guarded{}
		add := func(name string, c func() collector) {
			if !e.disabled[name] {
				in.collectors[name] = &guarded{c: c()}
			}
		}
		add("gateway", func() collector { return in.prober })
		// Another host's gateway has no process, locks, logs or disks here:
		// its series are absent, not those of whatever listens on its port.
		if !t.Remote {
			add("process", func() collector { return process.New(t) })
			add("locks", func() collector { return locks.New(t) })
			add("logs", func() collector {
				in.logs = logs.New(t, cfg.LogPatterns)
				return in.logs
			})
		}
		if mon != nil {
			add("reasoning", func() collector { return mon.Quality() })
			add("model_server", func() collector { return mon.Health() })
		}
		next = append(next, in)
	}
	for _, in := range next {
		if in.collectors["gateway"] != nil {
			in.prober.Start()
		}
		if in.reasoning != nil {
			// The suites feed "reasoning", the health probes
			// "model_server": neither runs for a collector left out.
			if in.collectors["reasoning"] != nil {
				for _, r := range in.reasoning.Runners() {
					r.Start()
				}
			}
			if in.collectors["model_server"] != nil {
				for _, p := range in.reasoning.Probers() {
					p.Start()
				}
			}
		}
	}
	e.mu.Lock()
	cur := e.state.Load()
	e.state.Store(&state{instances: next, host: cur.host, timeout: time.Duration(cfg.CollectorTimeout)})
	e.mu.Unlock()
	for _, in := range cur.instances {
		in.stop()
	}
	return nil
}

func (in *instance) stop() {
	in.prober.Stop()
	if in.logs != nil {
		in.logs.Close()
	}
	if in.reasoning != nil {
		in.reasoning.Stop()
	}
}

// AddHostCollector adds a collector for the host rather than for a gateway;
// its series carry no gateway label and its success is reported with
// gateway="".
func (e *Exporter) AddHostCollector(name string, c collector) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.state.Load()
	host := maps.Clone(cur.host)
	if host == nil {
		host = map[string]*guarded{}
	}
	host[name] = &guarded{c: c}
	next := *cur
	next.host = host
	e.state.Store(&next)
}

// GPUProcesses are the gateway and model-server processes found now, for
// the GPU collector's per-process memory. Discovery is cached, so this is
// cheap. A model server that is the gateway itself (a model URL on the
// gateway's port) counts as the gateway. It is called from inside a scrape,
// so it reads the snapshot and takes no lock.
func (e *Exporter) GPUProcesses() []gpu.Process {
	st := e.state.Load()
	var out []gpu.Process
	seen := map[int]bool{}
	add := func(pid int, gateway, role string) {
		if !seen[pid] {
			seen[pid] = true
			out = append(out, gpu.Process{PID: pid, Gateway: gateway, Role: role})
		}
	}
	for _, in := range st.instances {
		if p, _, err := in.target.Process(); err == nil {
			add(p.PID, in.name, gpu.RoleGateway)
		}
	}
	for _, in := range st.instances {
		for _, s := range in.servers {
			pids, err := s.PIDs()
			if err != nil {
				e.logger.Debug("model server process not found", "gateway", in.name, "err", err)
				continue
			}
			for _, pid := range pids {
				add(pid, in.name, gpu.RoleModelServer)
			}
		}
	}
	return out
}

// Close stops every background probe.
func (e *Exporter) Close() {
	e.mu.Lock()
	cur := e.state.Load()
	next := *cur
	next.instances = nil
	e.state.Store(&next)
	e.mu.Unlock()
	for _, in := range cur.instances {
		in.stop()
	}
}

// Describe sends nothing: the metric set depends on what is found, so the
// exporter is an unchecked collector, like node_exporter's.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect runs every collector of every gateway concurrently, each within
// the collector timeout.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	st := e.state.Load()
	var wg sync.WaitGroup
	for name, g := range st.host {
		wg.Go(func() { e.run(name, "", g, st.timeout, ch) })
	}
	for _, in := range st.instances {
		in.target.Begin()
		for name, g := range in.collectors {
			wg.Go(func() { e.run(name, in.name, g, st.timeout, ch) })
		}
	}
	wg.Wait()
}

// run reports one collector's metrics, success and duration. Its metrics are
// buffered and sent only when it finishes in time, so a collector that
// outlives the deadline never writes to a scrape that has moved on, and its
// partial metrics are not mixed with a success of 0.
func (e *Exporter) run(name, gw string, g *guarded, timeout time.Duration, ch chan<- prometheus.Metric) {
	start := time.Now()
	metrics, err := g.update(timeout)
	for _, m := range metrics {
		ch <- m
	}
	ch <- e.metrics.Gauge(durationDesc, time.Since(start).Seconds(), name, gw)
	success := 1.0
	if err != nil {
		success = 0
		e.logger.Warn("collector failed", "collector", name, "gateway", gw, "err", err)
	}
	ch <- e.metrics.Gauge(successDesc, success, name, gw)
}

// errStillRunning fails a collector whose run of an earlier scrape has not
// returned yet.
var errStillRunning = errors.New("the previous run has not returned yet (stuck past its deadline); not started again")

// update runs the collector with a deadline (0 means none), or joins the run
// in flight when it is still within its own deadline.
func (g *guarded) update(timeout time.Duration) ([]prometheus.Metric, error) {
	g.mu.Lock()
	f := g.cur
	if f != nil && !f.deadline.IsZero() && !time.Now().Before(f.deadline) {
		g.mu.Unlock()
		return nil, errStillRunning
	}
	if f == nil {
		f = &flight{done: make(chan struct{}), timeout: timeout}
		if timeout > 0 {
			f.deadline = time.Now().Add(timeout)
		}
		g.cur = f
		go g.fly(f)
	}
	f.waiters++
	g.mu.Unlock()
	var expired <-chan time.Time
	if !f.deadline.IsZero() {
		t := time.NewTimer(time.Until(f.deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-f.done:
		return f.metrics, f.err
	case <-expired:
		return nil, fmt.Errorf("no answer within the collector timeout of %s; abandoned", f.timeout)
	}
}

// fly runs the collector for f and ends the flight.
func (g *guarded) fly(f *flight) {
	buf := make(chan prometheus.Metric, 64)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for m := range buf {
			f.metrics = append(f.metrics, m)
		}
	}()
	err := g.c.Update(buf)
	close(buf)
	<-drained
	f.err = err
	g.mu.Lock()
	g.cur = nil // before done: the next scrape may start a run as soon as this one returns
	g.mu.Unlock()
	close(f.done)
}
