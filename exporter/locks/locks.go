// Package locks reports a gateway's lock files and whether their owners
// still hold them.
package locks

import (
	"os"
	"sync/atomic"
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

	// gatewayUID is the uid the gateway process last ran as, -1 until it
	// is found: its lock directory is named by it, and the stale locks of
	// a crashed gateway are still there after its process is gone.
	gatewayUID atomic.Int64
}

// New returns a lock collector for t.
func New(t *target.Target) *Collector {
	c := &Collector{t: t, now: time.Now}
	c.gatewayUID.Store(-1)
	return c
}

// lockDirs are the gateway's lock directories: those of the uid its process
// runs (or last ran) as, and those of the exporter's own uid.
func (c *Collector) lockDirs() []string {
	if p, _, err := c.t.Process(); err == nil {
		if uid, err := c.t.Procs.UID(p.PID); err == nil {
			c.gatewayUID.Store(int64(uid))
		}
	}
	var uids []int
	if uid := c.gatewayUID.Load(); uid >= 0 {
		uids = append(uids, int(uid))
	}
	return openclaw.LockDirsFor(c.t.Config.StateDir, "", append(uids, os.Getuid())...)
}

// Update lists the locks and judges each.
func (c *Collector) Update(ch chan<- prometheus.Metric) error {
	locks, err := openclaw.FindLocks(c.lockDirs()...)
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
