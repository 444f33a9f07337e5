package exporter_test

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// hangDeadline tells a scrape or reload that never returns from one that is
// slow; it is a hang detector, not a performance threshold.
const hangDeadline = time.Minute

var stuckDesc = prometheus.NewDesc("test_stuck_metric", "A metric sent before blocking.", nil, nil)

// stuck sends one metric and then blocks until released, like a collector
// wedged on a dead NFS mount or a driver call.
type stuck struct {
	calls   atomic.Int32
	release chan struct{}
}

func (s *stuck) Update(ch chan<- prometheus.Metric) error {
	s.calls.Add(1)
	ch <- prometheus.MustNewConstMetric(stuckDesc, prometheus.GaugeValue, 1)
	<-s.release
	return nil
}

// newExporter starts an exporter for one unreachable gateway with extra
// top-level configuration.
func newExporter(t *testing.T, name, extra string) *exporter.Exporter {
	t.Helper()
	exp, err := exporter.New(parse(t, name, extra), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exp.Close)
	return exp
}

func parse(t *testing.T, name, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(fmt.Appendf(nil, "%sgateways:\n  - name: %s\n    url: http://127.0.0.1:1\n    state_dir: %s\n    log_dir: %s\n",
		extra, name, t.TempDir(), t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// gatherWithin scrapes reg; the test fails if the scrape never returns.
func gatherWithin(t *testing.T, reg *prometheus.Registry) sample {
	t.Helper()
	done := make(chan sample, 1)
	go func() { done <- gatherQuiet(reg) }()
	select {
	case m := <-done:
		return m
	case <-time.After(hangDeadline):
		t.Fatalf("the scrape did not return within %s", hangDeadline)
		return nil
	}
}

// gatherQuiet is gather whose error shows as missing series.
func gatherQuiet(reg *prometheus.Registry) sample {
	m, _ := gather(reg)
	return m
}

// TestStuckCollectorFailsItselfNotTheScrape: a collector that never returns
// reports success 0 once its deadline passes, the scrape returns without its
// partial metrics, the next scrape fails it at once without starting a
// second run, and once it returns it is run (and succeeds) again.
func TestStuckCollectorFailsItselfNotTheScrape(t *testing.T) {
	t.Parallel()
	exp := newExporter(t, "g", "collector_timeout: 200ms\n")
	s := &stuck{release: make(chan struct{})}
	exp.AddHostCollector("stuck", s)
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)
	key := `openclaw_exporter_collector_success{collector="stuck"}`

	for i := range 3 {
		m := gatherWithin(t, reg)
		if v, ok := m[key]; !ok || v != 0 {
			t.Errorf("scrape %d: %s = %v (present %v), want 0", i, key, v, ok)
		}
		if _, ok := m["test_stuck_metric"]; ok {
			t.Errorf("scrape %d: the stuck collector's partial metrics were served", i)
		}
		if n := s.calls.Load(); n != 1 {
			t.Errorf("scrape %d: the stuck collector was started %d times, want once while its first run is stuck", i, n)
		}
	}
	close(s.release)
	simtest.Eventually(t, 30*time.Second, func() error {
		m := gatherQuiet(reg)
		if m[key] != 1 || m["test_stuck_metric"] != 1 {
			return fmt.Errorf("%s = %v, metric %v", key, m[key], m["test_stuck_metric"])
		}
		return nil
	})
}

// slowGPU plays the GPU collector in a slow scrape: it waits to be released
// and then calls back into the exporter for the processes, as the real one
// does.
type slowGPU struct {
	exp     *exporter.Exporter
	started chan struct{}
	once    sync.Once
	release chan struct{}
}

func (g *slowGPU) Update(chan<- prometheus.Metric) error {
	g.once.Do(func() { close(g.started) })
	<-g.release
	g.exp.GPUProcesses()
	return nil
}

// TestReloadDuringSlowScrape is issue 14's deadlock: Collect held the
// exporter's read lock while the GPU collector called GPUProcesses, which
// read-locked again; a reload waiting for the write lock in between made the
// second read lock wait for ever (until the NVML timeout failed the GPU
// collector). A reload must neither wait for the scrape nor fail it.
func TestReloadDuringSlowScrape(t *testing.T) {
	t.Parallel()
	exp := newExporter(t, "before", "")
	gpu := &slowGPU{exp: exp, started: make(chan struct{}), release: make(chan struct{})}
	exp.AddHostCollector("gpu", gpu)
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)

	scraped := make(chan sample, 1)
	go func() { scraped <- gatherQuiet(reg) }()
	<-gpu.started
	applied := make(chan error, 1)
	go func() { applied <- exp.Apply(parse(t, "after", "")) }()
	select {
	case err := <-applied:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hangDeadline):
		close(gpu.release)
		t.Fatalf("the reload waited %s for the scrape in flight", hangDeadline)
	}
	close(gpu.release)
	var m sample
	select {
	case m = <-scraped:
	case <-time.After(hangDeadline):
		t.Fatalf("the scrape did not return within %s of the reload", hangDeadline)
	}
	if m[`openclaw_exporter_collector_success{collector="gpu"}`] != 1 {
		t.Errorf("the GPU collector failed in the scrape the reload interrupted: %v", m[`openclaw_exporter_collector_success{collector="gpu"}`])
	}
	// The scrape that was in flight saw the old gateway; the next one sees the new.
	if _, ok := m[`openclaw_exporter_collector_success{collector="process"}`]; !ok {
		t.Error("the scrape in flight lost the old gateway's collectors")
	}
	after, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range after {
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetName() == "gateway" && l.GetValue() == "before" {
					t.Fatalf("%s still has gateway=before after the reload", mf.GetName())
				}
				found = found || (l.GetName() == "gateway" && l.GetValue() == "after")
			}
		}
	}
	if !found {
		t.Error("no series for the reloaded gateway")
	}
}

// TestConcurrentScrapesShareTheRunInFlight: a second scrape while the first
// is still collecting used to fail every collector still running with "the
// previous run has not returned yet". It must wait for that run and report
// its metrics, without starting the collector again.
func TestConcurrentScrapesShareTheRunInFlight(t *testing.T) {
	t.Parallel()
	exp := newExporter(t, "g", "collector_timeout: 1h\n")
	s := &stuck{release: make(chan struct{})}
	exp.AddHostCollector("slow", s)
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)

	scraped := make(chan sample, 2)
	go func() { scraped <- gatherQuiet(reg) }()
	simtest.Eventually(t, hangDeadline, func() error {
		if n := s.calls.Load(); n != 1 {
			return fmt.Errorf("the slow collector started %d times, want 1", n)
		}
		return nil
	})
	go func() { scraped <- gatherQuiet(reg) }()
	simtest.Eventually(t, hangDeadline, func() error {
		if n := exp.Waiters("slow"); n != 2 {
			return fmt.Errorf("%d scrapes wait for the slow collector's run, want 2", n)
		}
		return nil
	})
	close(s.release)
	key := `openclaw_exporter_collector_success{collector="slow"}`
	for i := range 2 {
		var m sample
		select {
		case m = <-scraped:
		case <-time.After(hangDeadline):
			t.Fatalf("scrape %d did not return within %s", i, hangDeadline)
		}
		if m[key] != 1 || m["test_stuck_metric"] != 1 {
			t.Errorf("scrape %d: %s = %v, test_stuck_metric = %v; want both 1", i, key, m[key], m["test_stuck_metric"])
		}
		if v, ok := m[`openclaw_exporter_collector_success{collector="process"}`]; !ok || v != 1 {
			t.Errorf("scrape %d: the gateway's process collector: success %v (present %v), want 1", i, v, ok)
		}
	}
	if n := s.calls.Load(); n != 1 {
		t.Errorf("the slow collector ran %d times for two concurrent scrapes, want once", n)
	}
}
