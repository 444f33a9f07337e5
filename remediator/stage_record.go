package remediator

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// recordStage journals an attempt's end in one transaction: the attempt's
// result, the gate's memory (which decides Retry, Done or Opened), the
// version that verified healthy, and the incident's end unless it is
// retried. It escalates when the circuit opens.
type recordStage struct{ r *Remediator }

func (s recordStage) exec(ctx context.Context, w *work) bool {
	r := s.r
	healthyVersion := s.healthyVersion(w)
	now := r.now()
	if ctx.Err() != nil && !completed(w.result) {
		w.result = journal.ResultInterrupted
	}
	var ts *journal.Target
	counted := false
	// In a batch with the webhooks' admissions and the other runners'
	// stages: one fsync for all. The function may run again (see
	// journal.Batch): it starts over from the journal, and counts once.
	err := r.journal.Batch(func(tx journal.Tx) error {
		var err error
		if ts, err = tx.Target(w.inc.Target); err != nil {
			return err
		}
		// Deliveries and resolution may have been journaled meanwhile:
		// the attempt ends on the incident as it is now.
		inc, err := tx.Incident(w.inc.ID)
		if err != nil {
			return err
		}
		output := w.res.Output
		if err := inc.End(w.result, output, w.verification, w.err, now); err != nil {
			return err
		}
		w.outcome = s.outcome(ts, inc, w, now)
		if healthyVersion != "" {
			ts.RecordVersion(healthyVersion, now)
			if w.revision != "" {
				ts.RecordRevision(healthyVersion, w.revision)
			}
		}
		if w.outcome != gate.Retry {
			reason := w.result
			switch {
			case w.outcome == gate.Opened:
				reason = "escalated: " + ts.Reason
			case errors.Is(w.err, actions.ErrRefused), errors.Is(w.err, actions.ErrPartial):
				reason = w.err.Error()
			}
			if err := inc.Finish(reason, now); err != nil {
				return err
			}
		}
		// Metrics move before the commit makes the end visible, so that
		// whoever sees the journaled result also sees it counted.
		if !counted {
			r.m.actions.WithLabelValues(inc.Action, inc.Target, w.result).Inc()
			if w.elapsed > 0 {
				r.m.duration.WithLabelValues(inc.Action).Observe(w.elapsed.Seconds())
			}
			counted = true
		}
		if w.outcome == gate.Opened {
			r.m.circuit.WithLabelValues(inc.Target).Set(1)
		}
		if err := tx.PutTarget(ts); err != nil {
			return err
		}
		w.inc = inc
		return tx.PutIncident(inc)
	})
	if err != nil {
		r.journalError("finish", err)
	}
	inc := w.inc
	log := r.logger.With("incident", inc.ID, "action", inc.Action, "target", inc.Target, "attempt", len(inc.Actions), "result", w.result, "duration", w.elapsed.Round(time.Millisecond))
	switch {
	case w.result == journal.ResultPartial:
		log.Warn("action partly done", "err", w.err)
	case w.err != nil:
		log.Warn("action failed", "err", w.err)
	default:
		log.Info("action finished", "verification", w.verification)
	}
	if w.outcome == gate.Opened && ts != nil {
		log.Error("circuit opened; no more actions on this target until a reset or the quiet period", "reason", ts.Reason)
		r.escalate(w.cfg, inc, ts)
	}
	return true
}

// outcome feeds the attempt's end to the gate.
func (recordStage) outcome(ts *journal.Target, inc *journal.Incident, w *work, now time.Time) gate.Outcome {
	switch {
	case w.result == journal.ResultInterrupted:
		return gate.Done
	case errors.Is(w.err, actions.ErrRefused):
		gate.Withdraw(ts, inc.Action, inc.Actions[len(inc.Actions)-1].StartedAt)
		return gate.Done
	}
	return gate.Finish(ts, inc.Action, completed(w.result), w.cfg.Limits, now)
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
func (s recordStage) healthyVersion(w *work) string {
	if w.result != journal.ResultSuccess || w.action == nil || !w.action.Spec().RecordsVersion || w.env == nil {
		return ""
	}
	t := w.env.Target
	if w.versionErr != nil {
		s.r.logger.Debug("running version not discoverable; not recorded", "target", t.Name, "err", w.versionErr)
		return ""
	}
	if !actions.ValidVersion(w.version, t.Rollback.VersionRegexp()) {
		s.r.logger.Warn("running version does not match the version pattern; not recorded", "target", t.Name,
			"version", strconv.Quote(w.version), "pattern", t.Rollback.VersionPattern)
		return ""
	}
	return w.version
}
