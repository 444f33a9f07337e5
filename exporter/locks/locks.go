// Package locks reports a gateway's lock files and whether their owners
// still hold them.
package locks

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/target"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

var (
	filesDesc = prometheus.NewDesc("openclaw_gateway_lock_files",
		"Gateway lock files (gateway.*.lock) in the gateway's lock directories.", []string{"gateway"}, nil)
	staleDesc = prometheus.NewDesc("openclaw_gateway_lock_stale_files",
		"Lock files whose owner is dead or whose pid now belongs to another process.", []string{"gateway"}, nil)
	unreadableDesc = prometheus.NewDesc("openclaw_gateway_lock_unreadable_files",
		"Lock files that could not be read or parsed; never judged stale.", []string{"gateway"}, nil)
	oldestDesc = prometheus.NewDesc("openclaw_gateway_lock_oldest_age_seconds",
		"Age of the oldest lock file by modification time (absent without locks).", []string{"gateway"}, nil)
)

// Collector reports one gateway's locks.
type Collector struct {
	t   *target.Target
	now func() time.Time
}

// New returns a lock collector for t.
func New(t *target.Target) *Collector { return &Collector{t: t, now: time.Now} }

// Update lists the locks and judges each.
func (c *Collector) Update(ch chan<- prometheus.Metric) error {
	locks, err := openclaw.FindLocks(c.t.Config.LockDirs()...)
	if err != nil {
		return err
	}
	var stale, unreadable int
	var oldest time.Time
	for _, lf := range locks {
		if oldest.IsZero() || lf.ModTime.Before(oldest) {
			oldest = lf.ModTime
		}
		if lf.Err != nil {
			unreadable++
			continue
		}
		st, err := lf.Lock.State(c.t.Procs)
		if err != nil {
			return err
		}
		if st.Stale() {
			stale++
		}
	}
	name := c.t.Config.Name
	ch <- prometheus.MustNewConstMetric(filesDesc, prometheus.GaugeValue, float64(len(locks)), name)
	ch <- prometheus.MustNewConstMetric(staleDesc, prometheus.GaugeValue, float64(stale), name)
	ch <- prometheus.MustNewConstMetric(unreadableDesc, prometheus.GaugeValue, float64(unreadable), name)
	if !oldest.IsZero() {
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, c.now().Sub(oldest).Seconds(), name)
	}
	return nil
}
