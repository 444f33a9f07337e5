package incident

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// recordStage journals an attempt's end in one transaction: the attempt's
// result, the gate's memory (which decides Retry, Done or Opened), the
// version that verified healthy, and the incident's end unless it is
// retried. It escalates when the circuit opens.
type recordStage struct {
	journal *journal.Journal
	now     func() time.Time
	metrics *Metrics
	logger  *slog.Logger
	// escalate tells the operator that a target's circuit opened.
	escalate     func(cfg *config.Config, inc *journal.Incident, ts *journal.Target)
	journalError func(op string, err error)
}

func (s recordStage) Exec(ctx context.Context, a *Attempt) bool {
	healthyVersion := s.healthyVersion(a)
	now := s.now()
	if ctx.Err() != nil && !completed(a.Result) {
		a.Result = journal.ResultInterrupted
	}
	var ts *journal.Target
	counted := false
	// In a batch with the webhooks' admissions and the other runners'
	// stages: one fsync for all. The function may run again (see
	// journal.Batch): it starts over from the journal, and counts once.
	err := s.journal.Batch(func(tx journal.Tx) error {
		var err error
		if ts, err = tx.Target(a.Incident.Target); err != nil {
			return err
		}
		// Deliveries and resolution may have been journaled meanwhile:
		// the attempt ends on the incident as it is now.
		inc, err := tx.Incident(a.Incident.ID)
		if err != nil {
			return err
		}
		if err := inc.End(a.Result, a.Output.Output, a.Verification, a.Err, now); err != nil {
			return err
		}
		a.Outcome = s.outcome(ts, inc, a, now)
		if healthyVersion != "" {
			ts.RecordVersion(healthyVersion, now)
			if a.Revision != "" {
				ts.RecordRevision(healthyVersion, a.Revision)
			}
		}
		if a.Outcome != gate.Retry {
			reason := a.Result
			switch {
			case a.Outcome == gate.Opened:
				reason = "escalated: " + ts.Reason
			case errors.Is(a.Err, actions.ErrRefused), errors.Is(a.Err, actions.ErrPartial):
				reason = a.Err.Error()
			}
			if err := inc.Finish(reason, now); err != nil {
				return err
			}
		}
		// Metrics move before the commit makes the end visible, so that
		// whoever sees the journaled result also sees it counted.
		if !counted {
			s.metrics.actions.WithLabelValues(inc.Action, inc.Target, a.Result).Inc()
			if a.Elapsed > 0 {
				s.metrics.duration.WithLabelValues(inc.Action).Observe(a.Elapsed.Seconds())
			}
			counted = true
		}
		if a.Outcome == gate.Opened {
			s.metrics.circuit.WithLabelValues(inc.Target).Set(1)
		}
		if err := tx.PutTarget(ts); err != nil {
			return err
		}
		a.Incident = inc
		return tx.PutIncident(inc)
	})
	if err != nil {
		s.journalError("finish", err)
	}
	inc := a.Incident
	log := s.logger.With("incident", inc.ID, "action", inc.Action, "target", inc.Target, "attempt", len(inc.Actions), "result", a.Result, "duration", a.Elapsed.Round(time.Millisecond))
	switch {
	case a.Result == journal.ResultPartial:
		log.Warn("action partly done", "err", a.Err)
	case a.Err != nil:
		log.Warn("action failed", "err", a.Err)
	default:
		log.Info("action finished", "verification", a.Verification)
	}
	if a.Outcome == gate.Opened && ts != nil {
		log.Error("circuit opened; no more actions on this target until a reset or the quiet period", "reason", ts.Reason)
		s.escalate(a.Config, inc, ts)
	}
	return true
}

// outcome feeds the attempt's end to the gate.
func (recordStage) outcome(ts *journal.Target, inc *journal.Incident, a *Attempt, now time.Time) gate.Outcome {
	switch {
	case a.Result == journal.ResultInterrupted:
		return gate.Done
	case errors.Is(a.Err, actions.ErrRefused):
		gate.Withdraw(ts, inc.Action, inc.Actions[len(inc.Actions)-1].StartedAt)
		return gate.Done
	}
	return gate.Finish(ts, inc.Action, completed(a.Result), a.Config.Limits, now)
}

// completed reports whether an attempt ran to its end without failing: a
// partial one left some of its work alone on purpose, and one done
// elsewhere was another remediator's, on the same target.
func completed(result string) bool {
	return result == journal.ResultSuccess || result == journal.ResultPartial || result == journal.ResultElsewhere
}

// healthyVersion is the version to record as verified healthy after a
// successful attempt of an action that records one. Only a version that
// passes the target's pattern is, so that nothing a rollback would refuse
// is ever recorded.
func (s recordStage) healthyVersion(a *Attempt) string {
	if a.Result != journal.ResultSuccess || a.Action == nil || !a.Action.Spec().RecordsVersion || a.Env == nil {
		return ""
	}
	t := a.Env.Target
	if a.VersionErr != nil {
		s.logger.Debug("running version not discoverable; not recorded", "target", t.Name, "err", a.VersionErr)
		return ""
	}
	if !actions.ValidVersion(a.Version, t.Rollback.VersionRegexp()) {
		s.logger.Warn("running version does not match the version pattern; not recorded", "target", t.Name,
			"version", strconv.Quote(a.Version), "pattern", t.Rollback.VersionPattern)
		return ""
	}
	return a.Version
}
