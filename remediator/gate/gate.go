// Package gate decides whether an action may run on a target now: the
// circuit breaker, the attempts allowed per window and the cooldown after
// the last action. It works on the target's journaled state, so its memory
// survives a restart of the remediator. The per-target lock (one action at a
// time) is the remediator's runner, one goroutine per target.
package gate

import (
	"fmt"
	"slices"
	"time"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Disruptive reports whether an action stops or replaces the gateway
// (actions.Spec). Only those count as attempts and respect the cooldown;
// the cleanups never stop it and may run between restarts, but an open
// circuit stops them too.
func Disruptive(action string) bool { return actions.Disruptive(action) }

// Refresh forgets attempts older than the window and closes a circuit whose
// quiet period has passed. It reports whether the circuit closed.
func Refresh(ts *journal.Target, l config.Limits, now time.Time) bool {
	cut := now.Add(-time.Duration(l.Window))
	i := 0
	for i < len(ts.Attempts) && !ts.Attempts[i].After(cut) {
		i++
	}
	ts.Attempts = ts.Attempts[i:]
	if !ts.CircuitOpen || l.QuietPeriod == nil || *l.QuietPeriod == 0 {
		return false
	}
	last := ts.OpenedAt
	if ts.LastHit.After(last) {
		last = ts.LastHit
	}
	if now.Sub(last) < time.Duration(*l.QuietPeriod) {
		return false
	}
	Reset(ts)
	return true
}

// Reset closes the circuit (manual reset or quiet period).
func Reset(ts *journal.Target) {
	ts.CircuitOpen, ts.Failures, ts.Reason = false, 0, ""
	ts.OpenedAt, ts.LastHit = time.Time{}, time.Time{}
}

// Decide returns "" when the action may run, else the refusing decision and
// why. A refusal by the open circuit extends its quiet period.
func Decide(ts *journal.Target, action string, l config.Limits, now time.Time) (decision, reason string) {
	Refresh(ts, l, now)
	if ts.CircuitOpen {
		ts.LastHit = now
		return journal.DecisionCircuitOpen, "circuit open: " + ts.Reason
	}
	if !Disruptive(action) {
		return "", ""
	}
	if len(ts.Attempts) >= l.MaxAttempts {
		return journal.DecisionRateLimited, fmt.Sprintf("%d attempts in the last %s", len(ts.Attempts), l.Window)
	}
	if !ts.LastEnd.IsZero() {
		if left := ts.LastEnd.Add(time.Duration(l.Cooldown)).Sub(now); left > 0 {
			return journal.DecisionCooldown, fmt.Sprintf("cooldown: last action ended %s ago", now.Sub(ts.LastEnd).Round(time.Second))
		}
	}
	return "", ""
}

// Begin records the start of an attempt.
func Begin(ts *journal.Target, action string, now time.Time) {
	if Disruptive(action) {
		ts.Attempts = append(ts.Attempts, now)
	}
}

// Withdraw gives back the attempt begun at start by an action that was
// refused before it touched the gateway: nothing was disrupted, so nothing
// counts against the limits.
func Withdraw(ts *journal.Target, action string, start time.Time) {
	if !Disruptive(action) {
		return
	}
	if i := slices.IndexFunc(ts.Attempts, start.Equal); i >= 0 {
		ts.Attempts = slices.Delete(ts.Attempts, i, i+1)
	}
}

// Outcome is what Finish decided after an attempt.
type Outcome int

// Outcomes.
const (
	Done   Outcome = iota // success, or a failure of an action that is not retried
	Retry                 // failed; another attempt is allowed
	Opened                // failed and the circuit opened: escalate
)

// Finish records the end of an attempt. A failed disruptive action is
// retried while attempts remain in the window; when they are exhausted the
// circuit opens.
func Finish(ts *journal.Target, action string, ok bool, l config.Limits, now time.Time) Outcome {
	if !Disruptive(action) {
		return Done
	}
	ts.LastEnd = now
	if ok {
		ts.Failures = 0
		return Done
	}
	ts.Failures++
	Refresh(ts, l, now)
	if ts.Failures >= l.MaxAttempts || len(ts.Attempts) >= l.MaxAttempts {
		ts.CircuitOpen, ts.OpenedAt = true, now
		ts.Reason = fmt.Sprintf("%s failed %d time(s) in a row and %d of %d attempts in %s are used",
			action, ts.Failures, len(ts.Attempts), l.MaxAttempts, l.Window)
		return Opened
	}
	return Retry
}
