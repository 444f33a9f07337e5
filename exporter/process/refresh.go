package process

import (
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
)

// refreshed is one such count. A scrape reads the last value and, once it is
// older than every, starts one refresh in the background, so the walk is
// never in a scrape's path: a scrape costs the same with 100 or 100,000
// sockets on the host, and any number of scrapers cause at most one walk per
// interval. The price is staleness, up to every plus one scrape interval,
// which the value's age (exported) shows. The first value for a key (a
// gateway process not seen before) is taken at once, so a restart is never
// reported with its predecessor's counts.
type refreshed[T any] struct {
	every time.Duration

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
		v, err := fetch()
		if err != nil {
			var zero T
			return zero, time.Time{}, err // not kept: the next scrape tries again
		}
		r.key, r.val, r.err, r.at = key, v, nil, time.Now()
		return v, r.at, nil
	}
	if !r.running && time.Since(r.at) >= r.every {
		r.running = true
		go func() {
			v, err := fetch()
			r.mu.Lock()
			defer r.mu.Unlock()
			r.running = false
			if r.key == key { // else a new process was counted meanwhile
				r.val, r.err, r.at = v, err, time.Now()
			}
		}()
	}
	return r.val, r.at, r.err
}
