package remediator

import (
	"context"
	"errors"
	"fmt"

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
	r     *Remediator
	stage stage
}

func (s claimStage) exec(ctx context.Context, w *work) bool {
	t := w.cfg.Target(w.inc.Target)
	drv, err := t.NewDriver(s.r.procs)
	if err != nil {
		return s.stage.exec(ctx, w) // the act stage reports it
	}
	w.drv = drv
	c, ok := drv.(driver.Claimer)
	if !ok {
		return s.stage.exec(ctx, w)
	}
	claim, err := c.Claim(ctx, w.inc.ID, w.inc.Action)
	switch {
	case ctx.Err() != nil:
		w.result, w.err = journal.ResultInterrupted, ctx.Err()
		return true
	case errors.Is(err, driver.ErrRefused):
		w.result, w.err = journal.ResultRefused, err
		return true
	case err != nil:
		w.result, w.err = journal.ResultFailure, fmt.Errorf("claim %s: %w", t.Name, err)
		return true
	case claim.DoneBy != "":
		w.result = journal.ResultElsewhere
		w.res.Output = fmt.Sprintf("done by %s: %s", claim.DoneBy, claim.Result)
		return true
	}
	ok = s.stage.exec(ctx, w)
	if ctx.Err() == nil {
		if err := claim.Release(w.result); err != nil {
			s.r.logger.Warn("claim not released", "incident", w.inc.ID, "target", t.Name, "err", err)
		}
	}
	return ok
}
