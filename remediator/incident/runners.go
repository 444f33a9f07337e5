package incident

import (
	"context"
	"slices"
	"sync"
)

// runners work through each target's incidents in arrival order, one at a
// time: the per-target lock of the gate stage. A runner starts with its
// target's first incident and ends when its target leaves the
// configuration.
type runners struct {
	ctx context.Context
	// process takes one incident through the pipeline; exists says
	// whether a target is still configured.
	process func(id string)
	exists  func(target string) bool
	wg      sync.WaitGroup

	mu     sync.Mutex
	byName map[string]*runner
	closed bool
}

type runner struct {
	name  string
	queue []string
	busy  bool
	wake  chan struct{}
}

// enqueue hands an incident to its target's runner.
func (rs *runners) enqueue(target, id string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return // journaled; the next start queues it again
	}
	rn := rs.byName[target]
	if rn == nil {
		rn = &runner{name: target, wake: make(chan struct{}, 1)}
		rs.byName[target] = rn
		rs.wg.Add(1)
		go rs.run(rn)
	}
	rn.queue = append(rn.queue, id)
	wake(rn)
}

// wake makes a runner look at its queue and the configuration again.
func wake(rn *runner) {
	select {
	case rn.wake <- struct{}{}:
	default:
	}
}

// reconfigured ends the idle runners of targets no longer configured.
func (rs *runners) reconfigured() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for name, rn := range rs.byName {
		if !rs.exists(name) {
			wake(rn)
		}
	}
}

func (rs *runners) run(rn *runner) {
	defer rs.wg.Done()
	for {
		rs.mu.Lock()
		if len(rn.queue) == 0 {
			rn.busy = false
			if !rs.exists(rn.name) {
				// Nothing more comes for it, and enqueue starts a new
				// runner if it does.
				delete(rs.byName, rn.name)
				rs.mu.Unlock()
				return
			}
			rs.mu.Unlock()
			select {
			case <-rs.ctx.Done():
				return
			case <-rn.wake:
				continue
			}
		}
		id := rn.queue[0]
		rn.queue = rn.queue[1:]
		rn.busy = true
		rs.mu.Unlock()
		if rs.ctx.Err() != nil {
			return
		}
		rs.process(id)
	}
}

// busy reports whether an incident runs on any of targets.
func (rs *runners) busy(targets []string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.ContainsFunc(targets, func(n string) bool { rn := rs.byName[n]; return rn != nil && rn.busy })
}

// counts is how many incidents are queued, and how many runners work.
func (rs *runners) counts() (queued, working int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, rn := range rs.byName {
		queued += len(rn.queue)
		if rn.busy {
			working++
		}
	}
	return queued, working
}

// close stops taking incidents and waits for the runners, whose context
// has ended.
func (rs *runners) close() {
	rs.mu.Lock()
	rs.closed = true
	rs.mu.Unlock()
	rs.wg.Wait()
}
