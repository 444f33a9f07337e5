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
