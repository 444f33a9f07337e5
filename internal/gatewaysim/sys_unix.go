//go:build unix

package gatewaysim

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

func terminate(pid int) error { return signal(pid, syscall.SIGTERM) }
func kill(pid int) error      { return signal(pid, syscall.SIGKILL) }

func signal(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// detachedAttr starts the detached simulator in a session of its own.
func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// LimitOpenFiles lowers the soft limit on open file descriptors to n, the
// way a service manager's LimitNOFILE does, so that a descriptor leak reaches
// the limit in seconds. The Go runtime raises the soft limit to the hard one
// at start; this undoes that.
func LimitOpenFiles(n uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("--max-open-files: read the limit: %w", err)
	}
	if n > lim.Max {
		return fmt.Errorf("--max-open-files: %d is above the hard limit %d", n, lim.Max)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("--max-open-files: %w", err)
	}
	return nil
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
