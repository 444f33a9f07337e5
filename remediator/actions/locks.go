package actions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
)

// cleanupLocksAction removes stale lock files without stopping anything.
type cleanupLocksAction struct{}

func (cleanupLocksAction) Spec() Spec { return Spec{Name: "cleanup_locks", ByLabel: true} }

func (cleanupLocksAction) Run(_ context.Context, env *Env) (Result, error) {
	if err := localFiles(env.Target, "cleanup_locks"); err != nil {
		return Result{}, err
	}
	n, report, err := CleanupLocks(env.Procs, env.Target.LockDirs())
	return Result{Output: fmt.Sprintf("removed %d lock file(s)\n%s", n, report)}, err
}

// CleanupLocks removes the gateway.*.lock files in dirs (gateway.state.lock
// among them) whose owner is dead or whose pid now belongs to another
// process. A live owner's lock, an unreadable lock, an untrusted lock
// (openclaw.FindLocks: another user may have written it, so its word that
// its owner is dead is worth nothing, and the directory is not the
// gateway's to tidy) and anything that is not a regular file are left
// alone, and said why.
func CleanupLocks(procs openclaw.ProcFS, dirs []string) (removed int, report string, err error) {
	locks, err := openclaw.FindLocks(dirs...)
	if err != nil {
		return 0, "", fmt.Errorf("find locks: %w", err)
	}
	var lines []string
	var errs []error
	for _, lf := range locks {
		if lf.Err != nil {
			lines = append(lines, fmt.Sprintf("kept %s: unreadable (%v)", lf.Path, lf.Err))
			continue
		}
		if !lf.Trusted() {
			lines = append(lines, fmt.Sprintf("kept %v", lf.Untrusted)) // it names the file
			continue
		}
		st, err := lf.Lock.State(procs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.Stale() {
			lines = append(lines, fmt.Sprintf("kept %s: owner pid %d is live", lf.Path, lf.Lock.PID))
			continue
		}
		if err := os.Remove(lf.Path); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove %s: %w", lf.Path, err))
			}
			continue
		}
		removed++
		lines = append(lines, fmt.Sprintf("removed %s: %s (pid %d)", lf.Path, st, lf.Lock.PID))
	}
	if len(locks) == 0 {
		lines = append(lines, "no lock files in "+strings.Join(dirs, ", "))
	}
	return removed, strings.Join(lines, "\n"), errors.Join(errs...)
}

// localFiles refuses a file cleanup of a target that Kubernetes runs unless
// its state volume is mounted here, which state_dir says: left at its
// default, it is the remediator's own home, not the gateway's.
func localFiles(t *config.Target, action string) error {
	if t.Driver.FilesElsewhere() && t.StateDirDefault() {
		return fmt.Errorf("%w: %s needs the gateway's files and target %s runs in Kubernetes: mount its state volume into the remediator and set state_dir (and log_dirs) to the mount", ErrRefused, action, t.Name)
	}
	return nil
}
