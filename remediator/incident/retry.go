package incident

import (
	"context"
	"log/slog"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"

	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// retryStage runs its stage again while the record stage's gate outcome is
// Retry: after the retry delay, with the configuration reloaded, and with
// the next attempt begun in one transaction (a batch shared with other
// writers).
type retryStage struct {
	journal      *journal.Journal
	now          func() time.Time
	config       func() *config.Config
	logger       *slog.Logger
	journalError func(op string, err error)
	stage        Stage
}

func (s retryStage) Exec(ctx context.Context, a *Attempt) bool {
	for {
		if !s.stage.Exec(ctx, a) || a.Outcome != gate.Retry {
			return true
		}
		select {
		case <-time.After(time.Duration(a.Config.Limits.RetryDelay)):
		case <-ctx.Done():
			return false
		}
		a.Config = s.config()
		if a.Config.Target(a.Incident.Target) == nil {
			return false
		}
		// A batch shared with other writers; the function may run again
		// (see journal.Batch) and starts over from the journal.
		now := s.now()
		err := s.journal.Batch(func(tx journal.Tx) error {
			ts, err := tx.Target(a.Incident.Target)
			if err != nil {
				return err
			}
			inc, err := tx.Incident(a.Incident.ID)
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
			a.Incident = inc
			return tx.PutIncident(inc)
		})
		if err != nil {
			s.journalError("retry", err)
			return false
		}
		s.logger.Info("retrying", "incident", a.Incident.ID, "action", a.Incident.Action, "target", a.Incident.Target, "attempt", len(a.Incident.Actions))
	}
}
