package incident

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// gateStage decides whether a received or approved incident acts now. In
// one transaction (a batch shared with other writers) it ends the incident (target gone, refused by the gate,
// dry run), holds it for approval, or begins its first attempt, journaled
// before anything is done so that a crash leaves it running and a restart
// marks it interrupted.
type gateStage struct {
	journal *journal.Journal
	now     func() time.Time
	// holds says why an upgrade keeps a target free of disruptive actions.
	holds func(target string) string
	// decisions counts the decisions.
	decisions    *prometheus.CounterVec
	logger       *slog.Logger
	journalError func(op string, err error)
}

func (s gateStage) Exec(_ context.Context, a *Attempt) bool {
	now := s.now()
	var (
		inc      *journal.Incident
		decision string
	)
	counted := false
	// In a batch with the webhooks' admissions and the other runners'
	// stages: one fsync for all. The function may run again (see
	// journal.Batch): it starts over from the journal, and counts once.
	err := s.journal.Batch(func(tx journal.Tx) error {
		inc, decision = nil, ""
		cur, err := tx.Incident(a.ID)
		if err != nil {
			return err
		}
		if cur.State != journal.StateReceived && cur.State != journal.StateQueued {
			return nil // decided meanwhile (approved twice, recovered)
		}
		if decision, err = s.decide(tx, cur, a.Config, now); err != nil {
			return err
		}
		inc = cur
		// Counted before the commit makes the decision visible, so that
		// whoever reads it from the journal also sees it counted.
		if !counted {
			s.decisions.WithLabelValues(decision).Inc()
			counted = true
		}
		return nil
	})
	if err != nil {
		s.journalError("decide", err)
		return false
	}
	if inc == nil {
		return false
	}
	a.Incident = inc
	switch decision {
	case journal.DecisionExecuted:
		a.Action, _ = actions.Lookup(inc.Action)
		return true
	case journal.DecisionPendingApproval:
		s.logger.Info("incident waits for approval", "incident", inc.ID, "action", inc.Action, "target", inc.Target)
	default:
		s.logger.Info("incident not acted on", "incident", inc.ID, "decision", decision, "reason", inc.Reason)
	}
	return false
}

// decide changes inc and its target's gate state in tx and returns the
// decision. An approved (queued) incident skips the limits: a human
// confirmed it.
func (s gateStage) decide(tx journal.Tx, inc *journal.Incident, cfg *config.Config, now time.Time) (string, error) {
	if cfg.Target(inc.Target) == nil {
		if err := inc.Settle(journal.DecisionNoMatch, "target no longer configured", now); err != nil {
			return "", err
		}
		return journal.DecisionNoMatch, tx.PutIncident(inc)
	}
	if reason := s.holds(inc.Target); reason != "" && actions.Disruptive(inc.Action) {
		// An approved incident too: the upgrade verifies and rolls back
		// this gateway itself.
		if err := inc.Settle(journal.DecisionUpgrading, reason, now); err != nil {
			return "", err
		}
		return journal.DecisionUpgrading, tx.PutIncident(inc)
	}
	ts, err := tx.Target(inc.Target)
	if err != nil {
		return "", err
	}
	decision := journal.DecisionExecuted
	if inc.State == journal.StateReceived {
		d, reason := gate.Decide(ts, inc.Action, cfg.Limits, now)
		switch {
		case d != "":
			decision, err = d, inc.Settle(d, reason, now)
		case inc.DryRun:
			decision = journal.DecisionDryRun
			err = inc.Settle(decision, fmt.Sprintf("dry run: would %s %s", inc.Action, inc.Target), now)
		case inc.Approval:
			decision, err = journal.DecisionPendingApproval, inc.Wait(now.Add(time.Duration(cfg.Approval.Timeout)), now)
		}
	}
	if decision == journal.DecisionExecuted {
		gate.Begin(ts, inc.Action, now)
		err = inc.Begin(now)
	}
	if err != nil {
		return "", err
	}
	if err := tx.PutTarget(ts); err != nil {
		return "", err
	}
	return decision, tx.PutIncident(inc)
}
