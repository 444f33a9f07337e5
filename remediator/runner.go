package remediator

// runner works through one target's incidents in arrival order: the
// per-target lock of the gate stage.
type runner struct {
	name  string
	queue []string
	busy  bool
	wake  chan struct{}
}

// enqueue hands an incident to its target's runner, starting the runner on
// first use.
func (r *Remediator) enqueue(target, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return // journaled; the next start queues it again
	}
	rn := r.runners[target]
	if rn == nil {
		rn = &runner{name: target, wake: make(chan struct{}, 1)}
		r.runners[target] = rn
		r.wg.Add(1)
		go r.run(rn)
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

func (r *Remediator) run(rn *runner) {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		if len(rn.queue) == 0 {
			rn.busy = false
			if r.cfg.Load().Target(rn.name) == nil {
				// The target left the configuration: nothing more comes
				// for it, and enqueue starts a new runner if it does.
				delete(r.runners, rn.name)
				r.mu.Unlock()
				return
			}
			r.mu.Unlock()
			select {
			case <-r.ctx.Done():
				return
			case <-rn.wake:
				continue
			}
		}
		id := rn.queue[0]
		rn.queue = rn.queue[1:]
		rn.busy = true
		r.mu.Unlock()
		if r.ctx.Err() != nil {
			return
		}
		r.process(id)
	}
}
