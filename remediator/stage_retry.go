package remediator

import (
	"context"
	"time"

	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// retryStage runs its stage again while the record stage's gate outcome is
// Retry: after the retry delay, with the configuration reloaded, and with
// the next attempt begun in one transaction (a batch shared with other
// writers).
type retryStage struct {
	r     *Remediator
	stage stage
}

func (s retryStage) exec(ctx context.Context, w *work) bool {
	r := s.r
	for {
		if !s.stage.exec(ctx, w) || w.outcome != gate.Retry {
			return true
		}
		select {
		case <-time.After(time.Duration(w.cfg.Limits.RetryDelay)):
		case <-ctx.Done():
			return false
		}
		w.cfg = r.cfg.Load()
		if w.cfg.Target(w.inc.Target) == nil {
			return false
		}
		// A batch shared with other writers; the function may run again
		// (see journal.Batch) and starts over from the journal.
		now := r.now()
		err := r.journal.Batch(func(tx journal.Tx) error {
			ts, err := tx.Target(w.inc.Target)
			if err != nil {
				return err
			}
			inc, err := tx.Incident(w.inc.ID)
			if err != nil {
				return err
			}
			gate.Begin(ts, inc.Action, now)
			if err := inc.Begin(now); err != nil {
				return err
			}
			if err := tx.PutTarget(ts); err != nil {
				return err
			}
			w.inc = inc
			return tx.PutIncident(inc)
		})
		if err != nil {
			r.journalError("retry", err)
			return false
		}
		r.logger.Info("retrying", "incident", w.inc.ID, "action", w.inc.Action, "target", w.inc.Target, "attempt", len(w.inc.Actions))
	}
}
