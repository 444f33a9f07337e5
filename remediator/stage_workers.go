package remediator

import (
	"context"
	"time"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// workerStage bounds the attempts running at once to the configured
// workers and times its stage, verification included. An attempt that
// could not start before the remediator stopped is interrupted.
type workerStage struct {
	r     *Remediator
	stage stage
}

func (s workerStage) exec(ctx context.Context, w *work) bool {
	r := s.r
	w.newAttempt()
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		w.result, w.err, w.elapsed = journal.ResultInterrupted, ctx.Err(), 0
		return true
	}
	r.m.running.Inc()
	start := time.Now()
	ok := s.stage.exec(ctx, w)
	w.elapsed = time.Since(start)
	r.m.running.Dec()
	<-r.sem
	return ok
}
