package gatewaysim

import (
	"context"
	"sync"
	"time"
)

// eventLoop models the gateway's single Node event loop: while it is hung or
// stalled, no request is answered and nothing is logged. Work waits at the
// gate; the control API does not (it stands for the debugger, not for Node).
type eventLoop struct {
	mu           sync.Mutex
	hung         bool
	stalledUntil time.Time
	lastStall    stall
	changed      chan struct{} // closed and replaced on every state change
}

// stall is one freeze of the loop.
type stall struct {
	start, end time.Time
	hold       time.Duration // how long /readyz keeps reporting it after end
}

func newEventLoop() *eventLoop {
	return &eventLoop{changed: make(chan struct{})}
}

func (l *eventLoop) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *eventLoop) setHung(hung bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hung = hung
	l.notifyLocked()
}

// freeze stalls the loop for d; /readyz reports the stall for hold after it.
func (l *eventLoop) freeze(now time.Time, d, hold time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stalledUntil = now.Add(d)
	l.lastStall = stall{start: now, end: now.Add(d), hold: hold}
	l.notifyLocked()
}

// thaw ends any stall at once and forgets it.
func (l *eventLoop) thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stalledUntil = time.Time{}
	l.lastStall = stall{}
	l.notifyLocked()
}

// busy reports whether the loop cannot run work right now.
func (l *eventLoop) busy(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hung || now.Before(l.stalledUntil)
}

// wait blocks until the loop is free or ctx ends.
func (l *eventLoop) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		if !l.hung && !now.Before(l.stalledUntil) {
			l.mu.Unlock()
			return nil
		}
		changed := l.changed
		var timer *time.Timer
		var expired <-chan time.Time
		if !l.hung {
			timer = time.NewTimer(l.stalledUntil.Sub(now))
			expired = timer.C
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-changed:
		case <-expired:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// recentStall returns the last stall if /readyz should still report it.
func (l *eventLoop) recentStall(now time.Time) (stall, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.lastStall
	if s.start.IsZero() || now.After(s.end.Add(s.hold)) {
		return stall{}, false
	}
	return s, true
}
