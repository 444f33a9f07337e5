//go:build cgo

package gpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector reads every GPU through NVML. One collection runs at a time;
// scrapes within Options.TTL share its result.
type Collector struct {
	lib    nvml.Interface
	opts   Options
	logger *slog.Logger
	now    func() time.Time // a seam for tests of the retry schedule

	mu       sync.Mutex // guards last and inflight
	last     *result
	inflight chan struct{}

	// Owned by the collection in flight (one at a time).
	nvml     *session
	nextInit time.Time
	retry    time.Duration
	lastWhy  string // why NVML is unavailable, logged once per reason

	xidMu sync.Mutex
	xids  map[string]uint64 // uuid → XID events since the exporter started
}

type result struct {
	at      time.Time
	up      bool   // NVML initialised with at least one GPU
	why     string // why not, when it is not
	metrics []prometheus.Metric
	err     error
}

// Open returns a collector over the system's NVML library.
func Open(opts Options, logger *slog.Logger) *Collector { return New(nvml.New(), opts, logger) }

// New returns a collector over lib: nvml.New() in the exporter, go-nvml's
// mocks in tests. Nothing is called before the first scrape or Available.
func New(lib nvml.Interface, opts Options, logger *slog.Logger) *Collector {
	return &Collector{lib: lib, opts: opts.withDefaults(), logger: logger, now: time.Now, xids: map[string]uint64{}}
}

// Available initialises NVML now and says why it cannot be used, for hosts
// where a missing GPU is itself an incident (--collector.gpu.required).
func (c *Collector) Available() error {
	r := c.collectShared()
	switch {
	case r.up:
		return nil
	case r.err != nil:
		return r.err
	}
	return errors.New(r.why)
}

// Update sends the last collection's metrics, collecting anew when it is
// older than the TTL.
func (c *Collector) Update(ch chan<- prometheus.Metric) error {
	r := c.collectShared()
	for _, m := range r.metrics {
		ch <- m
	}
	return r.err
}

// collectShared returns a fresh enough result, joining the collection in
// flight or starting one, and waits for it at most Options.Timeout.
func (c *Collector) collectShared() *result {
	c.mu.Lock()
	if c.last != nil && c.now().Sub(c.last.at) < c.opts.TTL {
		r := c.last
		c.mu.Unlock()
		return r
	}
	if c.inflight == nil {
		done := make(chan struct{})
		c.inflight = done
		go func() {
			r := c.collect()
			c.mu.Lock()
			c.last, c.inflight = r, nil
			c.mu.Unlock()
			close(done)
		}()
	}
	done := c.inflight
	c.mu.Unlock()

	timer := time.NewTimer(c.opts.Timeout)
	defer timer.Stop()
	select {
	case <-done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.last
	case <-timer.C:
		return &result{err: fmt.Errorf("NVML did not answer within %s; the collection goes on in the background", c.opts.Timeout)}
	}
}

// Close stops the XID watcher and shuts NVML down.
func (c *Collector) Close() {
	c.mu.Lock()
	done := c.inflight
	c.mu.Unlock()
	if done != nil {
		<-done
	}
	if c.nvml != nil {
		c.nvml.close()
		c.nvml = nil
	}
}

// collect runs one collection; only one runs at a time.
func (c *Collector) collect() *result {
	now := c.now()
	down := &result{at: now, metrics: []prometheus.Metric{prometheus.MustNewConstMetric(nvmlUpDesc, prometheus.GaugeValue, 0)}}
	if c.nvml == nil {
		if now.Before(c.nextInit) {
			down.why = c.lastWhy
			return down
		}
		s, err := open(c.lib, c.logger, c.addXID)
		if err != nil {
			c.unavailable(now, err)
			down.why = c.lastWhy
			if errors.Is(err, errUnavailable) {
				return down // no library, driver or GPU: not a failure of the collector
			}
			down.err = err
			return down
		}
		c.nvml, c.retry, c.lastWhy = s, 0, ""
		c.logger.Info("NVML initialised", "driver", s.driver, "cuda", s.cuda, "gpus", len(s.devices))
	}

	r := &result{at: now, up: true, metrics: []prometheus.Metric{prometheus.MustNewConstMetric(nvmlUpDesc, prometheus.GaugeValue, 1)}}
	procs := c.processesByPID()
	var fieldErrs []string
	for _, d := range c.nvml.devices {
		ms, errs, lifecycle := c.nvml.read(d, procs, c.xidCount(d.uuid))
		if lifecycle != nil {
			// The GPU or the driver went away under us: no further call on
			// this session is safe. Shut down and initialise again later.
			c.nvml.close()
			c.nvml = nil
			c.unavailable(now, lifecycle)
			down.err = lifecycle
			return down
		}
		r.metrics = append(r.metrics, ms...)
		fieldErrs = append(fieldErrs, errs...)
	}
	if len(fieldErrs) > 0 {
		r.err = fmt.Errorf("NVML: %s", strings.Join(fieldErrs, "; "))
	}
	return r
}

// unavailable schedules the next initialisation with a doubling, bounded
// wait, and logs a reason once rather than every scrape.
func (c *Collector) unavailable(now time.Time, err error) {
	switch {
	case c.retry == 0:
		c.retry = c.opts.RetryInterval
	case c.retry < c.opts.MaxRetryInterval:
		c.retry = min(2*c.retry, c.opts.MaxRetryInterval)
	}
	c.nextInit = now.Add(c.retry)
	if why := err.Error(); why != c.lastWhy {
		c.lastWhy = why
		level := slog.LevelWarn
		if errors.Is(err, errUnavailable) {
			level = slog.LevelInfo // a host without a GPU is normal
		}
		c.logger.Log(context.Background(), level, "GPU metrics unavailable", "err", err, "retry_in", c.retry)
	}
}

func (c *Collector) processesByPID() map[uint32]Process {
	procs := map[uint32]Process{}
	for _, p := range c.opts.Processes() {
		if p.PID > 0 {
			procs[uint32(p.PID)] = p
		}
	}
	return procs
}

func (c *Collector) addXID(uuid string) {
	c.xidMu.Lock()
	c.xids[uuid]++
	c.xidMu.Unlock()
}

func (c *Collector) xidCount(uuid string) uint64 {
	c.xidMu.Lock()
	defer c.xidMu.Unlock()
	return c.xids[uuid]
}
