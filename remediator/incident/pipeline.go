package incident

import (
	"context"
	"time"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Stage is one step of an incident's way from its runner to its end, as
// Alertmanager's notify.Stage is for a notification: built with what it
// needs, it does its step on the attempt it is handed and reports whether
// the stages after it run. A stage journals what it decided in one
// transaction of its own and logs its own errors.
type Stage interface {
	Exec(ctx context.Context, a *Attempt) bool
}

// StageFunc adapts a function to a Stage.
type StageFunc func(ctx context.Context, a *Attempt) bool

// Exec calls f.
func (f StageFunc) Exec(ctx context.Context, a *Attempt) bool { return f(ctx, a) }

// MultiStage runs its stages in order while they go on.
type MultiStage []Stage

// Exec runs the stages.
func (ms MultiStage) Exec(ctx context.Context, a *Attempt) bool {
	for _, s := range ms {
		if !s.Exec(ctx, a) {
			return false
		}
	}
	return true
}

// Attempt is what the stages hand on: the incident, and what its current
// attempt did so far. Each field says which stage writes it; a stage reads
// only what the stages before it wrote.
type Attempt struct {
	ID     string
	Config *config.Config
	// Incident is as the last stage journaled it; Action is its action
	// from the registry (gate).
	Incident *journal.Incident
	Action   actions.Action

	// The current attempt, reset by the workers stage (next).

	// Driver is the target's driver, built once (claim).
	Driver driver.Driver
	// Env, Output and Err are the action's run; Result its result, until
	// verification says otherwise (act).
	Env    *actions.Env
	Output actions.Result
	Result string
	Err    error
	// Verification is what verification found; Version what the gateway
	// runs after a verified attempt of an action that records versions or
	// checks one, asked once; Revision what the platform runs it as
	// (driver.Reverter), recorded with the version for a rollback (verify).
	Verification string
	Version      string
	VersionErr   error
	Revision     string
	// Elapsed is the attempt's duration, verification included (workers).
	Elapsed time.Duration
	// Outcome is the gate's verdict on the attempt (record).
	Outcome gate.Outcome
}

// next forgets what the previous attempt left.
func (a *Attempt) next() {
	a.Driver, a.Env, a.Output, a.Result, a.Err = nil, nil, actions.Result{}, "", nil
	a.Verification, a.Version, a.VersionErr, a.Revision = "", "", nil, ""
	a.Elapsed, a.Outcome = 0, gate.Done
}
