package upgrade

import (
	"context"
	"fmt"
	"slices"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// keepPackage keeps the package the target runs before its update replaces
// it, and records it in the journal as the package of the version it runs
// now, for this batch's rollback and for a later alert-driven one.
func (r *Runner) keepPackage(ctx context.Context, t *config.Target, s *journal.UpgradeStep) error {
	ts, err := r.journal.Target(t.Name)
	if err != nil {
		return err
	}
	named := ts.Packages()
	kept, err := actions.KeepPackage(ctx, t, s.From, r.now(), func(p string) bool { return slices.Contains(named, p) })
	if kept.Path == "" {
		return fmt.Errorf("package kept before the update: %w", err)
	}
	if err != nil {
		r.logger.Warn("kept packages not pruned", "target", t.Name, "err", err)
	}
	s.Package = kept.Path
	r.logger.Info("package kept before the update", "target", t.Name, "version", s.From, "node", kept.Node, "package", kept.Path)
	return r.journal.Update(func(tx journal.Tx) error {
		ts, err := tx.Target(t.Name)
		if err != nil {
			return err
		}
		ts.RecordPackage(s.From, kept.Path, kept.Node, r.now())
		return tx.PutTarget(ts)
	})
}

// keptSwap is the swap back to the package a step kept, or nil when it
// kept none or the kept one no longer checks.
func (r *Runner) keptSwap(t *config.Target, s *journal.UpgradeStep) func(context.Context) (string, error) {
	if s.Package == "" {
		return nil
	}
	if err := actions.CheckKept(t, s.Package, s.From); err != nil {
		r.logger.Warn("kept package not used, reinstalling", "target", t.Name, "version", s.From, "err", err)
		return nil
	}
	return actions.PackageSwap{Target: t, Kept: s.Package, Now: r.now()}.Run
}

// swapStopped swaps a kept package back with the gateway stopped.
func (r *Runner) swapStopped(ctx context.Context, t *config.Target, swap func(context.Context) (string, error)) (string, error) {
	drv, err := t.NewDriver(r.procs)
	if err != nil {
		return "", err
	}
	return actions.SwapStopped(ctx, actions.RestartOf(t, drv, r.procs), swap)
}
