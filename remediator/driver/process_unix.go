//go:build unix

package driver

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// deliver sends sig to the confirmed gateway proc, to its process group
// when it leads one that is not ours.
func (p *Process) deliver(proc openclaw.Process, sig syscall.Signal) error {
	target := proc.PID
	if pgid, err := syscall.Getpgid(proc.PID); err == nil && pgid == proc.PID && pgid != syscall.Getpgrp() {
		target = -pgid
	}
	kill := p.kill
	if kill == nil {
		kill = syscall.Kill
	}
	if err := kill(target, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("pid %d: %w", proc.PID, openclaw.ErrNoProcess)
		}
		return fmt.Errorf("%s pid %d: %w", sigName(sig), proc.PID, err)
	}
	return nil
}

// detachedAttr starts the gateway in a new session.
func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// openOutput opens the gateway's output file for appending. Its directory
// may be writable by others (a log directory, /tmp): a symlink planted there
// must not make the remediator, often root, append to the file it names,
// and a FIFO must not block the start.
func openOutput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o640)
	if err != nil {
		return nil, fmt.Errorf("gateway output file (a symlink is refused): %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("gateway output file %s: not a regular file (%v)", path, err)
	}
	return f, nil
}
