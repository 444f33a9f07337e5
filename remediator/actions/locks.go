package actions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// CleanupLocks removes the gateway.*.lock files in dirs whose owner is dead
// or whose pid now belongs to another process, and gateway.state.lock when
// it names the same dead owner. A live owner's lock, an unreadable lock and
// anything that is not a regular file are left alone.
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
		st, err := lf.Lock.State(procs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.Stale() {
			lines = append(lines, fmt.Sprintf("kept %s: owner pid %d is live", lf.Path, lf.Lock.PID))
			continue
		}
		if err := os.Remove(lf.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", lf.Path, err))
			continue
		}
		removed++
		lines = append(lines, fmt.Sprintf("removed %s: %s (pid %d)", lf.Path, st, lf.Lock.PID))
		if n, err := removeStateLock(procs, lf); err != nil {
			errs = append(errs, err)
		} else {
			removed += n
		}
	}
	if len(locks) == 0 {
		lines = append(lines, "no lock files in "+strings.Join(dirs, ", "))
	}
	return removed, strings.Join(lines, "\n"), errors.Join(errs...)
}

// removeStateLock removes gateway.state.lock beside a stale lock when it
// records the same stale owner.
func removeStateLock(procs openclaw.ProcFS, stale openclaw.LockFile) (int, error) {
	path := stale.Path[:strings.LastIndexByte(stale.Path, '/')+1] + openclaw.StateLockName
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil
	}
	l, err := openclaw.ParseLock(data)
	if err != nil || l.PID != stale.Lock.PID || l.StartTime != stale.Lock.StartTime {
		return 0, nil
	}
	if st, err := l.State(procs); err != nil || !st.Stale() {
		return 0, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("remove %s: %w", path, err)
	}
	return 1, nil
}
