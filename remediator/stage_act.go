package remediator

import (
	"context"
	"errors"
	"fmt"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// actStage runs one attempt of the incident's action from the registry,
// with the target's driver built once for the attempt. Its result is
// success (or partial) until verification says otherwise.
type actStage struct{ r *Remediator }

func (s actStage) exec(ctx context.Context, w *work) bool {
	r := s.r
	w.result = journal.ResultFailure
	if w.action == nil {
		w.err = fmt.Errorf("unknown action %q", w.inc.Action)
		return true
	}
	t := w.cfg.Target(w.inc.Target)
	drv := w.drv
	if drv == nil {
		var err error
		if drv, err = t.NewDriver(r.procs); err != nil {
			w.err = err
			return true
		}
	}
	w.env = &actions.Env{
		Config: w.cfg, Target: t, Incident: w.inc, Driver: drv, Client: r.client(t.Name), Procs: r.procs, Now: r.now(),
		Versions: func() ([]journal.Version, error) {
			ts, err := r.journal.Target(t.Name)
			if err != nil {
				return nil, err
			}
			return ts.Versions, nil
		},
	}
	w.res, w.err = w.action.Run(ctx, w.env)
	switch {
	case errors.Is(w.err, actions.ErrRefused):
		w.result = journal.ResultRefused
	case errors.Is(w.err, actions.ErrPartial):
		w.result = journal.ResultPartial
	case w.err == nil:
		w.result = journal.ResultSuccess
	}
	return true
}
