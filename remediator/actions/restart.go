package actions

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

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
