package upgrade

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/verify"
)

// The run of a guarded upgrade, batch by batch (runner.go plans and
// starts it).

func (r *Runner) run(u *journal.Upgrade) {
	defer r.wg.Done()
	defer r.end()
	refusal := r.preflight(r.ctx, r.config(), u)
	if r.ctx.Err() != nil {
		return // interrupted; the next start says so
	}
	if refusal != "" {
		r.finish(u, journal.UpgradeRefused, refusal)
		return
	}
	if err := r.save(u); err != nil {
		r.finish(u, journal.UpgradeFailed, err.Error())
		return
	}
	for i := range u.Batches {
		err := r.batch(r.ctx, u, i)
		if r.ctx.Err() != nil {
			// Left running in the journal; the next start marks it
			// interrupted.
			return
		}
		if err != nil {
			r.finish(u, journal.UpgradeFailed, fmt.Sprintf("batch %d: %v", i+1, err))
			return
		}
	}
	r.finish(u, journal.UpgradeDone, "")
}

// finishUpgrade journals the end, counts it and escalates a failure.
func (r *Runner) finish(u *journal.Upgrade, state, reason string) {
	now := r.now()
	u.State, u.Reason, u.EndedAt = state, reason, &now
	// Counted before the commit makes the end visible: whoever reads the
	// journaled end also sees it counted.
	r.metrics.upgrades.WithLabelValues(state).Inc()
	_ = r.save(u)
	if state == journal.UpgradeDone {
		r.logger.Info("upgrade done", "upgrade", u.ID, "to", u.To)
		return
	}
	r.logger.Error("upgrade stopped", "upgrade", u.ID, "to", u.To, "state", state, "reason", reason)
	r.notify.Send(map[string]any{
		"event": "upgrade_" + state, "upgrade": u.ID, "to": u.To, "reason": reason, "batches": u.Batches,
	})
}

// upgradeBatch upgrades, verifies and observes batch i, and rolls it back
// when any of that fails.
func (r *Runner) batch(ctx context.Context, u *journal.Upgrade, i int) error {
	cfg := r.config()
	b := &u.Batches[i]
	names := make([]string, len(b.Steps))
	for j, s := range b.Steps {
		names[j] = s.Target
	}
	held := map[string]bool{}
	for _, n := range names {
		held[n] = true
	}
	r.mu.Lock()
	r.held = held
	r.mu.Unlock()
	// From here the gate refuses new disruptive actions on these targets;
	// one already running ends first.
	if err := r.waitTargetsIdle(ctx, names); err != nil {
		return err
	}
	for j := range b.Steps {
		s := &b.Steps[j]
		t := cfg.Target(s.Target)
		if t == nil {
			return fmt.Errorf("target %s is no longer configured", s.Target)
		}
		v, err := r.settledVersion(ctx, t)
		if err != nil {
			return fmt.Errorf("target %s: no rollback point, its running version is not discoverable: %w", s.Target, err)
		}
		if err := actions.CheckVersion(v, t.Rollback.VersionRegexp()); err != nil {
			return fmt.Errorf("target %s: no rollback point: %w", s.Target, err)
		}
		s.From, s.Skipped = v, v == u.To
	}
	now := r.now()
	b.State, b.StartedAt = journal.BatchUpdating, &now
	// The rollback points are on disk before any command runs.
	if err := r.save(u); err != nil {
		return err
	}
	failure := r.updateBatch(ctx, cfg, u, b)
	if failure == nil && slices.ContainsFunc(b.Steps, func(s journal.UpgradeStep) bool { return s.Updated }) {
		b.State = journal.BatchObserving
		if err := r.save(u); err != nil {
			return err
		}
		obs := Observer{
			URL: r.promURL, AlertsQuery: cfg.Upgrade.AlertsQuery, ReasoningQuery: cfg.Upgrade.ReasoningQuery,
			MinRatio: cfg.Upgrade.MinRatio, Settle: time.Duration(cfg.Upgrade.Settle), Window: time.Duration(cfg.Upgrade.Observe), Interval: time.Duration(cfg.Upgrade.Interval),
		}
		b.Observation, failure = obs.Observe(ctx, names)
		if failure != nil {
			b.Observation = "observation failed: " + failure.Error()
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	end := r.now()
	b.EndedAt = &end
	if failure != nil {
		b.State = r.rollbackBatch(ctx, cfg, b)
		r.metrics.batches.WithLabelValues(b.State).Inc()
		_ = r.save(u)
		return failure
	}
	b.State = journal.BatchDone
	r.metrics.batches.WithLabelValues(b.State).Inc()
	// The new version verified and observed healthy: a later rollback
	// comes back to it, not past it.
	return r.journal.Update(func(tx journal.Tx) error {
		for _, n := range names {
			ts, err := tx.Target(n)
			if err != nil {
				return err
			}
			ts.RecordVersion(u.To, end)
			if err := tx.PutTarget(ts); err != nil {
				return err
			}
		}
		u.UpdatedAt = end
		return tx.PutUpgrade(u)
	})
}

// updateBatch runs each target's update command and verifies it, stopping
// at the first failure.
func (r *Runner) updateBatch(ctx context.Context, cfg *config.Config, u *journal.Upgrade, b *journal.UpgradeBatch) error {
	for j := range b.Steps {
		s := &b.Steps[j]
		if s.Skipped {
			s.Verification = "already runs " + u.To
			continue
		}
		t := cfg.Target(s.Target)
		if t.Backup.Dir != "" {
			if err := r.backupState(ctx, t, s); err != nil {
				s.Error = err.Error()
				_ = r.save(u)
				return fmt.Errorf("target %s: %w", s.Target, err)
			}
		}
		if t.Package.Dir != "" {
			if err := r.keepPackage(ctx, t, s); err != nil {
				s.Error = err.Error()
				_ = r.save(u)
				return fmt.Errorf("target %s: %w", s.Target, err)
			}
		}
		s.Updated = true
		if err := r.save(u); err != nil {
			return err
		}
		r.logger.Info("upgrading target", "upgrade", u.ID, "target", s.Target, "from", s.From, "to", u.To)
		out, err := r.runUpdate(ctx, t, s.Argv)
		s.Output = journal.Truncate(out)
		if err == nil {
			s.Verification, err = r.verifyVersion(ctx, t, u.To)
		}
		if err != nil {
			s.Error = err.Error()
			_ = r.save(u)
			return fmt.Errorf("target %s: %w", s.Target, err)
		}
		if len(t.Update.Status) > 0 {
			// The updater's own record of the run, for the operator;
			// a failure here fails nothing.
			out, err := driver.Run(ctx, t.Update.Status, t.Driver.Dir(), t.CLIEnv())
			if err != nil {
				out = fmt.Sprintf("%v\n%s", err, out)
			}
			s.Status = journal.Truncate(out)
		}
		if err := r.save(u); err != nil {
			return err
		}
	}
	return nil
}

// rollbackBatch takes every target whose update command ran back to its
// recorded version with the rollback command, and verifies it runs there.
func (r *Runner) rollbackBatch(ctx context.Context, cfg *config.Config, b *journal.UpgradeBatch) string {
	state := journal.BatchRolledBack
	for j := range b.Steps {
		s := &b.Steps[j]
		if !s.Updated {
			continue
		}
		t := cfg.Target(s.Target)
		argv, err := Argv(t.Rollback.Command, s.From, t.Rollback.VersionRegexp())
		var out, verification string
		swap := r.keptSwap(t, s)
		switch {
		case err != nil:
		case s.Backup != "":
			out, err = r.restoreState(ctx, t, s.Backup, argv, swap)
		case swap != nil:
			out, err = r.swapStopped(ctx, t, swap)
		default:
			out, err = r.runUpdate(ctx, t, argv)
		}
		if err == nil {
			verification, err = r.verifyVersion(ctx, t, s.From)
		}
		if err != nil {
			state = journal.BatchRollbackFailed
			s.Rollback = fmt.Sprintf("rollback to %s failed: %v\n%s", s.From, err, out)
			r.logger.Error("upgrade rollback failed", "target", s.Target, "to", s.From, "err", err)
			continue
		}
		s.Rollback = journal.Truncate(fmt.Sprintf("rolled back to %s: %s\n%s", s.From, verification, out))
		r.logger.Warn("upgrade rolled back", "target", s.Target, "to", s.From)
	}
	return state
}

// backupState archives the target's state before its update, and records
// the archive in the journal as the state of the version it runs now, for
// this batch's rollback and for a later alert-driven one.
func (r *Runner) backupState(ctx context.Context, t *config.Target, s *journal.UpgradeStep) error {
	ts, err := r.journal.Target(t.Name)
	if err != nil {
		return err
	}
	named := ts.Backups()
	archive, out, err := actions.CreateBackup(ctx, t, func(p string) bool { return slices.Contains(named, p) })
	if archive == "" {
		return fmt.Errorf("state backup before the update: %w\n%s", err, journal.Truncate(out))
	}
	if err != nil {
		r.logger.Warn("state backups not pruned", "target", t.Name, "err", err)
	}
	s.Backup = archive
	r.logger.Info("state archived before the update", "target", t.Name, "version", s.From, "archive", archive)
	return r.journal.Update(func(tx journal.Tx) error {
		ts, err := tx.Target(t.Name)
		if err != nil {
			return err
		}
		ts.RecordBackup(s.From, archive, r.now())
		return tx.PutTarget(ts)
	})
}

// restoreState rolls a target back to the state in archive and installs
// the version with argv, or with swap when a package was kept.
func (r *Runner) restoreState(ctx context.Context, t *config.Target, archive string, argv []string, swap func(context.Context) (string, error)) (string, error) {
	drv, err := t.NewDriver(r.procs)
	if err != nil {
		return "", err
	}
	return actions.StateRestore{Target: t, Archive: archive, Install: argv, Swap: swap, Now: r.now(), Restart: actions.RestartOf(t, drv, r.procs)}.Run(ctx)
}

// runUpdate runs a target's update or rollback command; with update.stop
// the gateway is stopped before it and started after.
func (r *Runner) runUpdate(ctx context.Context, t *config.Target, argv []string) (string, error) {
	if !t.Update.Stop {
		return driver.Run(ctx, argv, t.Driver.Dir(), t.CLIEnv())
	}
	drv, err := t.NewDriver(r.procs)
	if err != nil {
		return "", err
	}
	return actions.RunStopped(ctx, t, actions.RestartOf(t, drv, r.procs), argv)
}

// waitTargetsIdle waits until no incident runs on the targets.
func (r *Runner) waitTargetsIdle(ctx context.Context, names []string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if !r.busy(names) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// runningVersion asks a target's gateway which version it runs.
func (r *Runner) runningVersion(ctx context.Context, t *config.Target) (string, error) {
	drv, err := t.NewDriver(r.procs)
	if err != nil {
		return "", err
	}
	env := &actions.Env{Target: t, Driver: drv, Client: r.client(t.Name), Procs: r.procs}
	ctx, cancel := context.WithTimeout(ctx, verify.VersionTimeout)
	defer cancel()
	return env.RunningVersion(ctx)
}

// settledVersion asks for the running version until it answers or the
// target's verification timeout passes: a gateway that an alert-driven
// action just restarted may not answer yet.
func (r *Runner) settledVersion(ctx context.Context, t *config.Target) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(t.Verify.Timeout))
	defer cancel()
	tick := time.NewTicker(time.Duration(t.Verify.Interval))
	defer tick.Stop()
	for {
		v, err := r.runningVersion(ctx, t)
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-tick.C:
		}
	}
}

// verifyVersion is the verification of an action, wanting version running.
func (r *Runner) verifyVersion(ctx context.Context, t *config.Target, want string) (string, error) {
	p := verify.Prober{Client: r.client(t.Name), URL: t.URL, RPCAddr: t.RPCAddr(), Token: t.Token()}
	v, err := verify.Until(ctx, p, time.Duration(t.Verify.Timeout), time.Duration(t.Verify.Interval))
	if err != nil {
		return "", err
	}
	got, err := r.runningVersion(ctx, t)
	if err := verify.Runs(got, err, want); err != nil {
		return v, err
	}
	return v + "; runs " + got, nil
}

// recoverUpgrades ends an upgrade that a previous process left running: a
// batch it was in may be half done, so nothing is resumed; the operator
// reads the journaled rollback points and starts a new upgrade, which skips
// targets already on the version.
func (r *Runner) Recover() error {
	ups, err := r.journal.Upgrades()
	if err != nil {
		return err
	}
	for _, u := range ups {
		if !u.Active() {
			continue
		}
		batch := 0
		for i := range u.Batches {
			if s := u.Batches[i].State; s == journal.BatchUpdating || s == journal.BatchObserving {
				u.Batches[i].State, batch = journal.BatchInterrupted, i+1
			}
		}
		reason := "the remediator stopped before a batch began; nothing was left half done"
		if batch > 0 {
			targets := []string{}
			for _, s := range u.Batches[batch-1].Steps {
				targets = append(targets, s.Target+"@"+s.From)
			}
			reason = fmt.Sprintf("the remediator stopped during batch %d (rollback points %s); not resumed, check those targets", batch, strings.Join(targets, ", "))
		}
		r.finish(u, journal.UpgradeInterrupted, reason)
	}
	return nil
}
