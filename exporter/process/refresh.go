package process

import (
	"runtime"
	"sync"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// Refresh intervals of the two counts whose cost grows with the host rather
// than with the gateway: the TCP counts walk every bucket of the kernel's
// socket hash table (and every socket in it), the process count walks the
// whole process table.
const (
	tcpEvery   = 5 * time.Second
	countEvery = 60 * time.Second
	// maxShare bounds a count's background cost: where one walk costs more
	// than this share of a core over its interval (25 ms of CPU every 5 s),
	// the interval grows to match. On a host with 100,000 sockets the
	// kernel's dump costs more than 100 ms, and counts a little older are
	// better than an exporter that costs the host a few percent of a core.
	maxShare = 0.005
	// recountNew is how soon the first count for a new process is taken
	// again: around a restart the predecessor, or a child of it, may still
	// be exiting, and that count must not stand for a whole interval.
	recountNew = 10 * time.Second
)

// refreshed is one such count. A scrape reads the last value and, once it is
// older than every, starts one refresh in the background, so the walk is
// never in a scrape's path: a scrape costs the same with 100 or 100,000
// sockets on the host, and any number of scrapers cause at most one walk per
// interval. The price is staleness, up to every plus one scrape interval,
// which the value's age (exported) shows. The first value for a key (a
// gateway process not seen before) is taken at once, so a restart is never
// reported with its predecessor's counts, and taken again after recountNew
// (the predecessor may still be exiting). The interval stretches on a host
// where a walk costs more than maxShare of a core over it.
type refreshed[T any] struct {
	every time.Duration

	// next is the interval after the last walk: every, or longer for a
	// walk that cost more than maxShare of it.
	next time.Duration

	mu      sync.Mutex
	key     openclaw.Process
	val     T
	err     error
	at      time.Time // when val was taken; zero: none yet
	running bool
}

// get returns the value for key, when it was taken, and the error of the
// walk that produced it.
func (r *refreshed[T]) get(key openclaw.Process, fetch func() (T, error)) (T, time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at.IsZero() || r.key != key {
		v, cost, err := measured(fetch)
		if err != nil {
			var zero T
			return zero, time.Time{}, err // not kept: the next scrape tries again
		}
		r.key, r.val, r.err, r.at, r.next = key, v, nil, time.Now(), stretch(min(r.every, recountNew), cost)
		return v, r.at, nil
	}
	if !r.running && time.Since(r.at) >= r.next {
		r.running = true
		go func() {
			v, cost, err := measured(fetch)
			r.mu.Lock()
			defer r.mu.Unlock()
			r.running = false
			if r.key == key { // else a new process was counted meanwhile
				r.val, r.err, r.at, r.next = v, err, time.Now(), stretch(r.every, cost)
			}
		}()
	}
	return r.val, r.at, r.err
}

// stretch is how long to wait after a walk that cost cost: every, or
// longer where the walk cost more than maxShare of a core over it.
func stretch(every, cost time.Duration) time.Duration {
	return max(every, time.Duration(float64(cost)/maxShare))
}

// measured runs fetch and returns the CPU time (user and system, the
// kernel's part of a socket dump included) its thread spent.
func measured[T any](fetch func() (T, error)) (T, time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadCPU()
	v, err := fetch()
	return v, threadCPU() - before, err
}
