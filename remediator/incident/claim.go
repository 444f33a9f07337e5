package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// claimStage lets several remediators share a target (two replicas on
// Kubernetes, each receiving every alert): before its stage acts, the
// target is claimed for the incident through the driver, which waits while
// another remediator holds it. When the other one finished this incident,
// the attempt ends "elsewhere" without acting; otherwise the claim is
// released with the attempt's result once its stage is done. An attempt
// interrupted mid-action does not release: its claim expires, and the
// remediator that takes over acts, since the action never finished.
type claimStage struct {
	procs  openclaw.ProcFS
	logger *slog.Logger
	stage  Stage
}

func (s claimStage) Exec(ctx context.Context, a *Attempt) bool {
	t := a.Config.Target(a.Incident.Target)
	drv, err := t.NewDriver(s.procs)
	if err != nil {
		a.Result, a.Err = journal.ResultFailure, err
		return true
	}
	a.Driver = drv
	c, ok := drv.(driver.Claimer)
	if !ok {
		return s.stage.Exec(ctx, a)
	}
	claim, err := c.Claim(ctx, a.Incident.ID, a.Incident.Action)
	switch {
	case ctx.Err() != nil:
		a.Result, a.Err = journal.ResultInterrupted, ctx.Err()
		return true
	case errors.Is(err, driver.ErrRefused):
		a.Result, a.Err = journal.ResultRefused, err
		return true
	case err != nil:
		a.Result, a.Err = journal.ResultFailure, fmt.Errorf("claim %s: %w", t.Name, err)
		return true
	case claim.DoneBy != "":
		a.Result = journal.ResultElsewhere
		a.Output.Output = fmt.Sprintf("done by %s: %s", claim.DoneBy, claim.Result)
		return true
	}
	ok = s.stage.Exec(ctx, a)
	if ctx.Err() == nil {
		if err := claim.Release(a.Result); err != nil {
			s.logger.Warn("claim not released", "incident", a.Incident.ID, "target", t.Name, "err", err)
		}
	}
	return ok
}
