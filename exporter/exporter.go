// Package exporter assembles the collectors for the configured gateways into
// one prometheus.Collector and swaps them on reload.
package exporter

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/gateway"
	"github.com/clawwatch/clawwatch/exporter/gpu"
	"github.com/clawwatch/clawwatch/exporter/locks"
	"github.com/clawwatch/clawwatch/exporter/logs"
	"github.com/clawwatch/clawwatch/exporter/process"
	"github.com/clawwatch/clawwatch/exporter/reasoning"
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

// instance is one gateway's set of collectors.
type instance struct {
	name       string
	target     *target.Target
	prober     *gateway.Prober
	logs       *logs.Collector
	reasoning  *reasoning.Monitor // nil without models
	servers    []*target.Server   // the model servers' processes, for their GPU memory
	collectors map[string]collector
}

// Exporter collects every configured gateway.
type Exporter struct {
	logger *slog.Logger

	mu        sync.RWMutex
	instances []*instance
	// host collectors (gpu) are not per gateway and outlive reloads.
	host map[string]collector
}

// New builds the collectors for cfg and starts the background probes.
func New(cfg *config.Config, logger *slog.Logger) (*Exporter, error) {
	e := &Exporter{logger: logger}
	if err := e.Apply(cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// Apply replaces the collectors with ones for cfg. On error the old ones
// stay in place.
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
		in := &instance{name: g.Name, target: t, prober: gateway.New(t), logs: logs.New(t, cfg.LogPatterns), reasoning: mon}
		for _, m := range g.Models {
			if m.LocalPort() > 0 || m.PIDFile != "" {
				in.servers = append(in.servers, target.NewServer(m.LocalPort(), m.PIDFile))
			}
		}
		in.collectors = map[string]collector{
			"gateway": in.prober,
			"process": process.New(t),
			"locks":   locks.New(t),
			"logs":    in.logs,
		}
		if mon != nil {
			in.collectors["reasoning"] = mon.Quality()
			in.collectors["model_server"] = mon.Health()
		}
		next = append(next, in)
	}
	for _, in := range next {
		in.prober.Start()
		if in.reasoning != nil {
			in.reasoning.Start()
		}
	}
	e.mu.Lock()
	old := e.instances
	e.instances = next
	e.mu.Unlock()
	for _, in := range old {
		in.stop()
	}
	return nil
}

func (in *instance) stop() {
	in.prober.Stop()
	in.logs.Close()
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
	if e.host == nil {
		e.host = map[string]collector{}
	}
	e.host[name] = c
}

// GPUProcesses are the gateway and model-server processes found now, for
// the GPU collector's per-process memory. Discovery is cached, so this is
// cheap. A model server that is the gateway itself (a model URL on the
// gateway's port) counts as the gateway.
func (e *Exporter) GPUProcesses() []gpu.Process {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []gpu.Process
	seen := map[int]bool{}
	add := func(pid int, gateway, role string) {
		if !seen[pid] {
			seen[pid] = true
			out = append(out, gpu.Process{PID: pid, Gateway: gateway, Role: role})
		}
	}
	for _, in := range e.instances {
		if p, _, err := in.target.Process(); err == nil {
			add(p.PID, in.name, gpu.RoleGateway)
		}
	}
	for _, in := range e.instances {
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
	defer e.mu.Unlock()
	for _, in := range e.instances {
		in.stop()
	}
	e.instances = nil
}

// Describe sends nothing: the metric set depends on what is found, so the
// exporter is an unchecked collector, like node_exporter's.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect runs every collector of every gateway concurrently.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var wg sync.WaitGroup
	for name, c := range e.host {
		wg.Go(func() { e.run(name, "", c, ch) })
	}
	for _, in := range e.instances {
		for name, c := range in.collectors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.run(name, in.name, c, ch)
			}()
		}
	}
	wg.Wait()
}

func (e *Exporter) run(name, gw string, c collector, ch chan<- prometheus.Metric) {
	start := time.Now()
	err := c.Update(ch)
	ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, time.Since(start).Seconds(), name, gw)
	success := 1.0
	if err != nil {
		success = 0
		e.logger.Warn("collector failed", "collector", name, "gateway", gw, "err", err)
	}
	ch <- prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, success, name, gw)
}
