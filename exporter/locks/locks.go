// Package locks reports a gateway's lock files and whether their owners
// still hold them.
package locks

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/series"
	"github.com/clawwatch/clawwatch/exporter/target"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

var (
	filesDesc = prometheus.NewDesc("openclaw_gateway_lock_files",
		"Gateway lock files in the gateway's lock directories.", []string{"gateway"}, nil)
	staleDesc = prometheus.NewDesc("openclaw_gateway_lock_stale_files",
		"Trusted lock files whose owner is dead or replaced.", []string{"gateway"}, nil)
	unreadableDesc = prometheus.NewDesc("openclaw_gateway_lock_unreadable_files",
		"Lock files that could not be read or parsed.", []string{"gateway"}, nil)
	untrustedDesc = prometheus.NewDesc("openclaw_gateway_lock_untrusted_files",
		"Lock files another user than the gateway's may have written.", []string{"gateway"}, nil)
	oldestDesc = prometheus.NewDesc("openclaw_gateway_lock_oldest_age_seconds",
		"Age of the oldest lock file by modification time.", []string{"gateway"}, nil)
	ageDesc = prometheus.NewDesc("openclaw_gateway_locks_age_seconds",
		"Seconds since the lock files were listed (in the background).", []string{"gateway"}, nil)
)

// refreshEvery is how often the locks are listed and judged again: a lock
// that appears or goes, or whose owner dies, is reported within it (plus one
// scrape interval, since a scrape that finds the values older starts the
// refresh).
const refreshEvery = 5 * time.Second

// counts is what one listing of the locks found.
type counts struct {
	files, stale, unreadable, untrusted int
	oldest                              time.Time // zero without locks
}

// Collector reports one gateway's locks. Listing the lock directories and
// judging each owner (a stat of its process) costs more than the rest of a
// gateway's scrape, so it is done in the background, like the process
// collector's TCP counts: a scrape reads the last counts and, once they are
// older than every, starts one refresh that it does not wait for. Any number
// of scrapers cause at most one listing per interval. The first listing for
// a gateway process (a process not seen before: a restart, or the gateway
// going away) is taken at once, so a restart is never reported with its
// predecessor's locks.
type Collector struct {
	t       *target.Target
	now     func() time.Time
	every   time.Duration
	metrics series.Cache

	mu      sync.Mutex
	key     openclaw.Process // the gateway process the counts were taken for
	val     counts
	err     error
	at      time.Time // when val was taken; zero: none yet
	running bool

	// gatewayUID is the uid the gateway process last ran as, -1 until it
	// is found: its lock directory is named by it, and the stale locks of
	// a crashed gateway are still there after its process is gone.
	gatewayUID atomic.Int64
}

// New returns a lock collector for t.
func New(t *target.Target) *Collector {
	c := &Collector{t: t, now: time.Now, every: refreshEvery}
	c.gatewayUID.Store(-1)
	return c
}

// lockDirs are the gateway's lock directories: those of the uid its process
// runs (or last ran) as, and those of the exporter's own uid.
func (c *Collector) lockDirs() ([]string, error) {
	state, err := c.t.StateDir()
	if err != nil {
		return nil, err
	}
	if p, _, err := c.t.Process(); err == nil {
		if uid, err := c.t.Procs.UID(p.PID); err == nil {
			c.gatewayUID.Store(int64(uid))
		}
	}
	var uids []int
	if uid := c.gatewayUID.Load(); uid >= 0 {
		uids = append(uids, int(uid))
	}
	return openclaw.LockDirsFor(state, "", append(uids, os.Getuid())...), nil
}

// Update reports the last counts, refreshing them as Collector says.
func (c *Collector) Update(ch chan<- prometheus.Metric) error {
	id, _, _ := c.t.Process() // the zero Process without one
	v, at, err := c.get(id)
	if err != nil {
		return err
	}
	name := c.t.Config.Name
	ch <- c.metrics.Gauge(filesDesc, float64(v.files), name)
	ch <- c.metrics.Gauge(staleDesc, float64(v.stale), name)
	ch <- c.metrics.Gauge(unreadableDesc, float64(v.unreadable), name)
	ch <- c.metrics.Gauge(untrustedDesc, float64(v.untrusted), name)
	if !v.oldest.IsZero() {
		ch <- c.metrics.Gauge(oldestDesc, c.now().Sub(v.oldest).Seconds(), name)
	}
	ch <- c.metrics.Gauge(ageDesc, time.Since(at).Seconds(), name)
	return nil
}

// get returns the counts for the gateway process key and when they were
// taken: at once for a key not seen before (an error is then not kept: the
// next scrape tries again), else the last ones, starting a refresh in the
// background when they are older than c.every.
func (c *Collector) get(key openclaw.Process) (counts, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || c.key != key {
		v, err := c.list()
		if err != nil {
			return counts{}, time.Time{}, err
		}
		c.key, c.val, c.err, c.at = key, v, nil, time.Now()
		return v, c.at, nil
	}
	if !c.running && time.Since(c.at) >= c.every {
		c.running = true
		go func() {
			v, err := c.list()
			c.mu.Lock()
			defer c.mu.Unlock()
			c.running = false
			if c.key == key { // else a new process was listed meanwhile
				c.val, c.err, c.at = v, err, time.Now()
			}
		}()
	}
	return c.val, c.at, c.err
}

// list lists the locks and judges each.
func (c *Collector) list() (counts, error) {
	dirs, err := c.lockDirs()
	if err != nil {
		return counts{}, err
	}
	locks, err := openclaw.FindLocks(dirs...)
	if err != nil {
		return counts{}, err
	}
	var v counts
	v.files = len(locks)
	for _, lf := range locks {
		if v.oldest.IsZero() || lf.ModTime.Before(v.oldest) {
			v.oldest = lf.ModTime
		}
		if lf.Err != nil {
			v.unreadable++
			continue
		}
		// Anyone may have written it: not the gateway's to judge, and
		// cleanup_locks leaves it (an alert on it would repeat for ever).
		if !lf.Trusted() {
			v.untrusted++
			continue
		}
		st, err := lf.Lock.State(c.t.Procs)
		if err != nil {
			return counts{}, err
		}
		if st.Stale() {
			v.stale++
		}
	}
	return v, nil
}
