package journal

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrTransition is a state change that an incident's life does not allow.
var ErrTransition = errors.New("illegal incident transition")

// transitions are the states an incident may go to from each state. The
// methods below are the only writers of State: the remediator asks the
// incident to change and the journal stores what it decided.
//
//	received ─┬─→ pending ─┬─→ queued ─┬─→ running ⟲ (retry) ─→ done
//	          │            └───────────┴──────────────────────→ done
//	          ├─→ running
//	          └─→ done (no_match, refused by the gate, dry run)
var transitions = map[string][]string{
	StateReceived: {StatePending, StateRunning, StateDone},
	StatePending:  {StateQueued, StateDone},
	StateQueued:   {StateRunning, StateDone},
	StateRunning:  {StateRunning, StateDone},
	StateDone:     nil,
}

// States lists every state.
var States = []string{StateReceived, StatePending, StateQueued, StateRunning, StateDone}

func (i *Incident) to(state string, now time.Time) error {
	if !slices.Contains(transitions[i.State], state) {
		return fmt.Errorf("%w: incident %s is %s, cannot become %s", ErrTransition, i.ID, i.State, state)
	}
	i.State, i.UpdatedAt = state, now
	return nil
}

// Settle ends an incident that is not acted on (any more): no_match, a
// refusal by the gate, a dry run, a rejection, an expiry.
func (i *Incident) Settle(decision, reason string, now time.Time) error {
	if err := i.to(StateDone, now); err != nil {
		return err
	}
	i.Decision, i.Reason = decision, reason
	return nil
}

// Wait holds a received incident for approval until expires.
func (i *Incident) Wait(expires, now time.Time) error {
	if i.State != StateReceived {
		return fmt.Errorf("%w: incident %s is %s, only a received one waits for approval", ErrTransition, i.ID, i.State)
	}
	if err := i.to(StatePending, now); err != nil {
		return err
	}
	i.Decision, i.Reason, i.ExpiresAt = DecisionPendingApproval, "waits for approval", &expires
	if q := i.Quiet; q != nil && q.Outcome == QuietDeadline {
		i.Reason = "no quiet moment before " + q.Until.UTC().Format(time.RFC3339) + "; waits for approval"
	}
	return nil
}

// Approve queues a pending incident for its runner, past the gate's limits:
// a person confirmed it.
func (i *Incident) Approve(now time.Time) error {
	if err := i.to(StateQueued, now); err != nil {
		return err
	}
	i.Approved, i.Reason, i.ExpiresAt = true, "approved", nil
	return nil
}

// Reject drops a pending incident.
func (i *Incident) Reject(reason string, now time.Time) error {
	if i.State != StatePending {
		return fmt.Errorf("%w: incident %s is %s, only a pending one is rejected", ErrTransition, i.ID, i.State)
	}
	if err := i.Settle(DecisionRejected, reason, now); err != nil {
		return err
	}
	i.ExpiresAt = nil
	return nil
}

// Expire ends a pending incident whose approval time has passed; it
// reports whether it did.
func (i *Incident) Expire(now time.Time) bool {
	if i.State != StatePending || i.ExpiresAt == nil || now.Before(*i.ExpiresAt) {
		return false
	}
	return i.Settle(DecisionExpired, "nobody approved it before "+i.ExpiresAt.UTC().Format(time.RFC3339), now) == nil
}

// Begin starts an attempt of the incident's action: the first from received
// or queued, another after the last one ended without success.
func (i *Incident) Begin(now time.Time) error {
	if i.State == StateRunning && i.Running() != nil {
		return fmt.Errorf("%w: incident %s: attempt %d has not ended", ErrTransition, i.ID, len(i.Actions))
	}
	if err := i.to(StateRunning, now); err != nil {
		return err
	}
	i.Decision = DecisionExecuted
	i.Actions = append(i.Actions, Action{Attempt: len(i.Actions) + 1, Action: i.Action, Target: i.Target, StartedAt: now})
	return nil
}

// End records the end of the running attempt; the incident keeps running
// until Finish, since the attempt may be retried.
func (i *Incident) End(result, output, verification string, actErr error, now time.Time) error {
	a := i.Running()
	if i.State != StateRunning || a == nil {
		return fmt.Errorf("%w: incident %s is %s with no attempt running", ErrTransition, i.ID, i.State)
	}
	a.EndedAt, a.Result = &now, result
	a.Output, a.Verification = Truncate(output), Truncate(verification)
	if actErr != nil {
		a.Error = Truncate(actErr.Error())
	}
	i.UpdatedAt = now
	return nil
}

// Finish ends a running incident whose last attempt has ended.
func (i *Incident) Finish(reason string, now time.Time) error {
	if i.Running() != nil {
		return fmt.Errorf("%w: incident %s: attempt %d has not ended", ErrTransition, i.ID, len(i.Actions))
	}
	if i.State != StateRunning {
		return fmt.Errorf("%w: incident %s is %s, not running", ErrTransition, i.ID, i.State)
	}
	if err := i.to(StateDone, now); err != nil {
		return err
	}
	i.Reason = reason
	return nil
}

// Interrupt ends a running incident whose remediator stopped: its attempt,
// if one ran, is interrupted and not run again.
func (i *Incident) Interrupt(now time.Time) error {
	if a := i.Running(); a != nil {
		a.EndedAt, a.Result = &now, ResultInterrupted
		a.Error = "the remediator stopped while the action ran; not run again"
	}
	if err := i.to(StateDone, now); err != nil {
		return err
	}
	i.Reason = "interrupted by a restart of the remediator"
	return nil
}
