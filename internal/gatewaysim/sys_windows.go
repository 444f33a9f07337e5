//go:build windows

package gatewaysim

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// Windows has no SIGTERM for another process: both stop it at once.
func terminate(pid int) error { return kill(pid) }

func kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil // gone
	}
	defer p.Release()
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// detachedAttr starts the detached simulator in a process group of its own.
func detachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// LimitOpenFiles: Windows has no descriptor limit to lower.
func LimitOpenFiles(uint64) error {
	return errors.New("--max-open-files: Windows has no limit on open handles to lower")
}

// processCPU is the simulator's own CPU time.
func processCPU() time.Duration {
	var c, e, k, u syscall.Filetime
	if syscall.GetProcessTimes(syscall.Handle(^uintptr(0)), &c, &e, &k, &u) != nil {
		return 0
	}
	ticks := func(f syscall.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(k) + ticks(u)) * 100)
}
