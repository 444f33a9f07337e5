package actions

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// restartAction takes evidence, restarts the gateway and has it verified.
type restartAction struct{}

func (restartAction) Spec() Spec {
	return Spec{Name: "restart", Disruptive: true, Verified: true, RecordsVersion: true, ByLabel: true}
}

func (restartAction) Run(ctx context.Context, env *Env) (Result, error) {
	t := env.Target
	if err := refuseSafeMode(ctx, t); err != nil {
		return Result{}, err
	}
	dir, err := env.Evidence().Snapshot(ctx, env.Now)
	output := "evidence: " + dir
	if err != nil {
		output += " (" + err.Error() + ")"
	}
	out, err := RestartOf(t, env.Driver, env.Procs).Run(ctx)
	return Result{Output: output + "\n" + out}, err
}

// Evidence is where and how the incident's evidence is taken.
func (e *Env) Evidence() Evidence {
	t, d := e.Target, e.Config.Diagnostics
	return Evidence{
		Dir: d.Dir, Keep: d.MaxSnapshots, LogLines: d.LogLines,
		Target: t.Name, IncidentID: e.Incident.ID, URL: t.URL, Client: e.Client, Driver: e.Driver, Procs: e.Procs,
		LogDirs: t.LogDirs, LogProfile: t.LogProfile, RPCAddr: t.RPCAddr(), Token: t.Token(),
	}
}

// RestartOf is the restart of target t through d.
func RestartOf(t *config.Target, d driver.Driver, procs openclaw.ProcFS) Restart {
	return Restart{Driver: d, Grace: time.Duration(t.StopTimeout), Procs: procs, LockDirs: t.LockDirs()}
}

// Restart is the emergency runbook of the seeds, minus evidence and verify,
// which the caller does around it: graceful stop within Grace, force, remove
// stale locks, start.
type Restart struct {
	Driver   driver.Driver
	Grace    time.Duration
	Procs    openclaw.ProcFS
	LockDirs []string
}

// Run restarts the target and returns a log of its steps.
func (r Restart) Run(ctx context.Context) (string, error) {
	if d, ok := r.Driver.(driver.Restarter); ok {
		return d.Restart(ctx)
	}
	var log []string
	out, err := r.Driver.Stop(ctx, r.Grace)
	log = append(log, "stop: "+out)
	if err != nil {
		return strings.Join(log, "\n"), fmt.Errorf("stop: %w", err)
	}
	// A killed gateway leaves its locks, and the next start would wedge as
	// "already running".
	n, report, err := CleanupLocks(r.Procs, r.LockDirs)
	log = append(log, fmt.Sprintf("locks: removed %d\n%s", n, report))
	if err != nil {
		return strings.Join(log, "\n"), fmt.Errorf("clean locks: %w", err)
	}
	out, err = r.Driver.Start(ctx)
	log = append(log, "start: "+out)
	if err != nil {
		return strings.Join(log, "\n"), fmt.Errorf("start: %w", err)
	}
	return strings.Join(log, "\n"), nil
}

// refuseSafeMode refuses to restart a gateway whose health RPC says it is in
// its restart-recovery safe mode. The gateway's own docs
// (docs/gateway/restart-recovery.md): the breaker counts unclean boots over
// 5 minutes and is kept across restarts, so a restart does not lift it
// (and a forced stop adds an unclean boot); the way out is to fix the cause,
// start channels by hand (restart_channel) or leave the gateway running
// until the window drains, when it starts its channels itself. A gateway
// whose RPC does not answer is not known to be in safe mode: a hang is
// restarted as before.
const safeModeCheckTimeout = 5 * time.Second

func refuseSafeMode(ctx context.Context, t *config.Target) error {
	if t.Token() == "" {
		return nil
	}
	// Briefly: a gateway whose RPC hangs is what a restart is for, and
	// must not wait long here (a well one answers in milliseconds).
	cctx, cancel := context.WithTimeout(ctx, safeModeCheckTimeout)
	defer cancel()
	snap, err := health(cctx, t.RPCAddr(), t.Token())
	if err != nil {
		return nil
	}
	if n := snap.SafeModeAccounts(); n > 0 {
		return fmt.Errorf("%w: %w (its crash-loop breaker holds %d channel account(s) stopped); a restart would not lift it and a forced stop would extend it: fix the cause of the unclean boots, start the channels with restart_channel, or let the gateway run until the breaker's window drains", ErrRefused, errSafeMode, n)
	}
	return nil
}
