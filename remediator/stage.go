package remediator

import (
	"context"
	"time"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// stage is one step of an incident's way from its runner to its end, as
// Alertmanager's notify.Stage is for a notification. exec does the step
// and reports whether the stages after it run; a stage journals what it
// decided in one transaction of its own and logs its own errors.
type stage interface {
	exec(ctx context.Context, w *work) bool
}

// stageFunc adapts a function to a stage.
type stageFunc func(ctx context.Context, w *work) bool

func (f stageFunc) exec(ctx context.Context, w *work) bool { return f(ctx, w) }

// multiStage runs its stages in order while they go on.
type multiStage []stage

func (ms multiStage) exec(ctx context.Context, w *work) bool {
	for _, s := range ms {
		if !s.exec(ctx, w) {
			return false
		}
	}
	return true
}

// pipeline is the way of one incident, in the order of the package doc.
func (r *Remediator) pipeline() stage {
	return multiStage{
		gateStage{r},
		retryStage{r, multiStage{
			workerStage{r, claimStage{r, multiStage{actStage{r}, verifyStage{r}}}},
			recordStage{r},
		}},
	}
}

// work is one incident on its way: what each stage leaves for the next.
type work struct {
	id  string
	cfg *config.Config
	// inc is the incident as the last stage journaled it.
	inc    *journal.Incident
	action actions.Action

	// The current attempt, reset by the workers stage.
	// drv is the target's driver, built once per attempt (claim stage).
	drv          driver.Driver
	env          *actions.Env
	res          actions.Result
	result       string
	verification string
	err          error
	elapsed      time.Duration
	// version is what the gateway runs after a verified attempt of an
	// action that records versions or checks one, asked once.
	version    string
	versionErr error
	// revision is what the platform runs it as (driver.Reverter), recorded
	// with the version for a rollback.
	revision string
	outcome  gate.Outcome
}

// newAttempt forgets what the previous attempt left.
func (w *work) newAttempt() {
	w.drv, w.env, w.res, w.result, w.verification, w.err, w.elapsed = nil, nil, actions.Result{}, "", "", nil, 0
	w.version, w.versionErr, w.revision, w.outcome = "", nil, "", gate.Done
}

// process takes one incident through the pipeline.
func (r *Remediator) process(id string) {
	r.stages.exec(r.ctx, &work{id: id, cfg: r.cfg.Load()})
}
