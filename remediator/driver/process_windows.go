//go:build windows

package driver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// errNoSignals is why the process driver does not stop a gateway on
// Windows: there are no signals, and a pid opened after it was confirmed
// may by then name another process; TerminateProcess would kill that one.
// The openclaw driver (the gateway's own CLI, which stops its Scheduled
// Task) and the command driver work there.
var errNoSignals = errors.New("the process driver does not stop processes on Windows (no signals, and a pid cannot be held to the process it was confirmed for); use the openclaw or command driver")

func (p *Process) deliver(proc openclaw.Process, sig syscall.Signal) error {
	return fmt.Errorf("%s pid %d: %w", sigName(sig), proc.PID, errNoSignals)
}

// detachedAttr starts the gateway in a process group of its own, without a
// console window.
func detachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP, HideWindow: true}
}

// openOutput opens the gateway's output file for appending, refusing a
// symlink, junction or anything but a regular file (checked before the
// open, and the open file must be the one checked).
func openOutput(path string) (*os.File, error) {
	seen, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("gateway output file: %w", err)
	}
	if err == nil && !seen.Mode().IsRegular() {
		return nil, fmt.Errorf("gateway output file %s: not a regular file (%s)", path, openclaw.FileKind(seen.Mode()))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("gateway output file: %w", err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || (seen != nil && !os.SameFile(seen, st)) {
		f.Close()
		return nil, fmt.Errorf("gateway output file %s: not a regular file, or replaced while opened (%v)", path, err)
	}
	return f, nil
}
