// Package reload re-reads a binary's configuration on SIGHUP or on request
// for the exporter and the remediator alike: one reload at a time, a bad
// file keeps the running configuration, and one pair of gauges per binary
// records the outcome, as Prometheus's own config_last_reload_* do.
package reload

import (
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// Gauges are a binary's <namespace>_config_last_reload_successful and
// _success_timestamp_seconds. They start as a successful load: a binary
// runs only once its configuration has loaded.
type Gauges struct {
	success, at prometheus.Gauge
}

// NewGauges creates the pair; register it (it is a prometheus.Collector).
func NewGauges(namespace string) *Gauges {
	g := &Gauges{
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "config_last_reload_successful",
			Help:      "1 if the last configuration load succeeded.",
		}),
		at: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "config_last_reload_success_timestamp_seconds",
			Help:      "When the configuration was last loaded successfully.",
		}),
	}
	g.Record(nil)
	return g
}

// Record sets the gauges from a load's outcome.
func (g *Gauges) Record(err error) {
	if err != nil {
		g.success.Set(0)
		return
	}
	g.success.Set(1)
	g.at.SetToCurrentTime()
}

// Describe implements prometheus.Collector.
func (g *Gauges) Describe(ch chan<- *prometheus.Desc) {
	g.success.Describe(ch)
	g.at.Describe(ch)
}

// Collect implements prometheus.Collector.
func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	g.success.Collect(ch)
	g.at.Collect(ch)
}

// Reloader runs a binary's reload: load reads the file and applies it, or
// returns an error and changes nothing.
type Reloader struct {
	file   string
	load   func() error
	record func(error)
	logger *slog.Logger
	mu     sync.Mutex
}

// New returns a reloader of file ("" for a built-in configuration); record
// is the binary's Gauges.Record or whatever sets them.
func New(file string, load func() error, record func(error), logger *slog.Logger) *Reloader {
	return &Reloader{file: file, load: load, record: record, logger: logger}
}

// Reload loads and applies the configuration once; concurrent calls (a
// SIGHUP during a POST /-/reload) take turns.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.load()
	r.record(err)
	if err != nil {
		r.logger.Error("reload failed; the previous configuration stays live", "err", err)
		return err
	}
	r.logger.Info("configuration reloaded", "file", r.file)
	return nil
}

// OnSIGHUP reloads on every SIGHUP for the rest of the process's life.
func (r *Reloader) OnSIGHUP() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			_ = r.Reload()
		}
	}()
}
