package incident

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// quietStage holds an incident whose policy waits for a quiet moment
// (journal.Quiet: an alert that predicts trouble hours ahead) until its
// gateway reports no active agent turn, or until the wait's deadline, when
// it goes on to the gate asking for approval or, if the policy says so,
// acting. A waiting incident stays received and gives its runner back:
// the incidents behind it (a hung gateway) do not wait for it, and a
// restart of the remediator queues it again to the same deadline. A
// gateway that cannot be asked is not quiet.
type quietStage struct {
	journal *journal.Journal
	now     func() time.Time
	// turns asks a target's gateway how many agent turns are active now.
	turns func(ctx context.Context, t *config.Target) (int, error)
	// again hands the incident back to its target's runner after d.
	again func(target, id string, d time.Duration)
	// waiting are the incidents that wait now, for the gauge.
	waiting      *waitingSet
	decisions    *prometheus.CounterVec
	logger       *slog.Logger
	journalError func(op string, err error)
}

// quietAskTimeout bounds one look at the gateway: a hung gateway answers
// nothing, and its runner has other incidents to take.
const quietAskTimeout = 10 * time.Second

func (s quietStage) Exec(ctx context.Context, a *Attempt) bool {
	inc, err := s.journal.Incident(a.ID)
	if err != nil {
		s.journalError("quiet", err)
		return false
	}
	q := inc.Quiet
	t := a.Config.Target(inc.Target)
	if q == nil || q.Outcome != "" || inc.State != journal.StateReceived || inc.DryRun || t == nil {
		// Nothing to wait for: acts at once, was approved by a person,
		// does nothing (dry run), or the gate ends it (target gone).
		s.waiting.remove(a.ID)
		return true
	}
	now := s.now()
	if inc.ResolvedAt != nil {
		return s.resolved(a)
	}
	active, askErr := 0, error(nil)
	if now.Before(q.Until) {
		actx, cancel := context.WithTimeout(ctx, quietAskTimeout)
		active, askErr = s.turns(actx, t)
		cancel()
	}
	outcome := ""
	switch {
	case !now.Before(q.Until):
		outcome = journal.QuietDeadline
	case askErr == nil && active == 0:
		outcome = journal.QuietFound
	}
	var (
		cur     *journal.Incident
		counted bool
	)
	// A batch shared with the other writers; the function may run again
	// and starts over from the journal, counting once.
	err = s.journal.Batch(func(tx journal.Tx) error {
		cur = nil
		c, err := tx.Incident(a.ID)
		if err != nil {
			return err
		}
		if c.State != journal.StateReceived || c.Quiet == nil || c.Quiet.Outcome != "" {
			return nil // decided meanwhile
		}
		cq := c.Quiet
		cq.CheckedAt, cq.ActiveTurns, cq.Error, cq.Outcome = &now, active, "", outcome
		if askErr != nil {
			cq.Error = journal.Truncate(askErr.Error())
		}
		switch outcome {
		case journal.QuietFound:
			c.Reason = fmt.Sprintf("a quiet moment after %s", now.Sub(c.ReceivedAt).Round(time.Second))
		case journal.QuietDeadline:
			c.Reason = "no quiet moment before " + cq.Until.UTC().Format(time.RFC3339)
			if cq.Then == config.QuietThenAct {
				c.Reason += "; acts all the same (quiet.then: act)"
			} else {
				// The gate holds it for a person (journal.Incident.Wait).
				c.Approval = true
			}
		default:
			if c.Decision != journal.DecisionWaitingQuiet && !counted {
				s.decisions.WithLabelValues(journal.DecisionWaitingQuiet).Inc()
				counted = true
			}
			c.Decision = journal.DecisionWaitingQuiet
			c.Reason = "waits for a quiet moment until " + cq.Until.UTC().Format(time.RFC3339) + ": " + busy(active, cq.Error)
		}
		c.UpdatedAt = now
		cur = c
		return tx.PutIncident(c)
	})
	if err != nil {
		s.journalError("quiet", err)
		return false
	}
	if cur == nil {
		s.waiting.remove(a.ID)
		return false
	}
	a.Incident = cur
	if outcome != "" {
		s.waiting.remove(a.ID)
		s.logger.Info("quiet wait ended", "incident", cur.ID, "outcome", outcome, "action", cur.Action, "target", cur.Target, "reason", cur.Reason)
		return true
	}
	if s.waiting.add(a.ID) {
		s.logger.Info("incident waits for a quiet moment", "incident", cur.ID, "action", cur.Action, "target", cur.Target, "until", cur.Quiet.Until, "reason", cur.Reason)
	}
	every := time.Duration(config.DefaultQuietWithin) // only if the policy went away
	if p := a.Config.Policy(cur.Policy); p != nil && p.Quiet != nil {
		every = p.Quiet.Every()
	}
	s.again(cur.Target, cur.ID, min(every, cur.Quiet.Until.Sub(now)))
	return false
}

// resolved ends a waiting incident whose alert resolved: what it predicted
// is no longer predicted, and a restart now would cost a turn for nothing.
func (s quietStage) resolved(a *Attempt) bool {
	s.waiting.remove(a.ID)
	now := s.now()
	counted, settled := false, false
	err := s.journal.Batch(func(tx journal.Tx) error {
		settled = false
		c, err := tx.Incident(a.ID)
		if err != nil || c.State != journal.StateReceived {
			return err
		}
		if err := c.Settle(journal.DecisionResolved, "the alert resolved while it waited for a quiet moment", now); err != nil {
			return err
		}
		if !counted {
			s.decisions.WithLabelValues(journal.DecisionResolved).Inc()
			counted = true
		}
		settled = true
		return tx.PutIncident(c)
	})
	if err != nil {
		s.journalError("quiet", err)
	} else if settled {
		s.logger.Info("incident not acted on", "incident", a.ID, "decision", journal.DecisionResolved)
	}
	return false
}

// busy says why the gateway is not quiet.
func busy(active int, askErr string) string {
	switch {
	case askErr != "":
		return "the gateway could not be asked for its active agent turns: " + askErr
	case active == 1:
		return "1 active agent turn"
	}
	return fmt.Sprintf("%d active agent turns", active)
}

// waitingSet are the incidents waiting for a quiet moment in this process.
type waitingSet struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

// add reports whether id was not waiting before.
func (w *waitingSet) add(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.ids[id]; ok {
		return false
	}
	if w.ids == nil {
		w.ids = map[string]struct{}{}
	}
	w.ids[id] = struct{}{}
	return true
}

func (w *waitingSet) remove(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.ids, id)
}

func (w *waitingSet) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.ids)
}
