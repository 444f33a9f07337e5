package incident

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// workerStage bounds the attempts running at once to the configured
// workers and times its stage, verification included. An attempt that
// could not start before the remediator stopped is interrupted.
type workerStage struct {
	slots   chan struct{}
	running prometheus.Gauge
	stage   Stage
}

func (s workerStage) Exec(ctx context.Context, a *Attempt) bool {
	a.next()
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		a.Result, a.Err, a.Elapsed = journal.ResultInterrupted, ctx.Err(), 0
		return true
	}
	s.running.Inc()
	start := time.Now()
	ok := s.stage.Exec(ctx, a)
	a.Elapsed = time.Since(start)
	s.running.Dec()
	<-s.slots
	return ok
}
