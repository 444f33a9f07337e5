package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// Process signals the gateway process found like the exporter finds it (the
// listener on its port, then the live owner of its lock) and starts it again
// with a configured argv, detached in its own session.
type Process struct {
	Procs    openclaw.ProcFS
	Port     int
	LockDirs []string
	Argv     []string
	Dir      string
	Env      []string
	// Output receives the started gateway's stdout and stderr; "" discards.
	Output string
	// KillWait bounds the wait after SIGKILL.
	KillWait time.Duration
}

// Find returns the running gateway process.
func (p *Process) Find() (openclaw.Process, error) {
	d := openclaw.Discoverer{Procs: p.Procs, Port: p.Port, LockDirs: p.LockDirs, SkipTitle: true}
	proc, _, err := d.Find(openclaw.Process{})
	return proc, err
}

// started remembers, per port, the processes Start ran, for the lifetime of
// the remediator: drivers are made per action, and a gateway run through a
// wrapper may be titled like anything.
var started struct {
	sync.Mutex
	byPort map[int][]openclaw.Process
}

// maxStarted bounds what started keeps per port.
const maxStarted = 8

func rememberStarted(port int, proc openclaw.Process) {
	started.Lock()
	defer started.Unlock()
	if started.byPort == nil {
		started.byPort = map[int][]openclaw.Process{}
	}
	list := append(started.byPort[port], proc)
	started.byPort[port] = list[max(0, len(list)-maxStarted):]
}

// identity is what proves a found process to be this target's gateway.
func (p *Process) identity() openclaw.Identity {
	started.Lock()
	defer started.Unlock()
	return openclaw.Identity{Procs: p.Procs, Port: p.Port, LockDirs: p.LockDirs, Started: slices.Clone(started.byPort[p.Port])}
}

// Stop sends SIGTERM to the gateway (its whole process group when it leads
// one, so Node workers go with it), waits up to grace, then SIGKILL. It
// signals nothing that it cannot show to be the gateway: whatever holds
// the port may be another program.
func (p *Process) Stop(ctx context.Context, grace time.Duration) (string, error) {
	proc, err := p.Find()
	if errors.Is(err, openclaw.ErrNotFound) {
		return "no gateway process running", nil
	}
	if err != nil {
		return "", fmt.Errorf("find gateway process: %w", err)
	}
	how, err := p.identity().Confirm(proc)
	if errors.Is(err, openclaw.ErrNoProcess) {
		return fmt.Sprintf("pid %d exited before it was signalled", proc.PID), nil
	}
	if err != nil {
		return "", fmt.Errorf("refusing to signal the process on port %d: %w", p.Port, err)
	}
	target := proc.PID
	if pgid, err := syscall.Getpgid(proc.PID); err == nil && pgid == proc.PID {
		target = -proc.PID
	}
	if err := syscall.Kill(target, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return "", fmt.Errorf("SIGTERM pid %d: %w", proc.PID, err)
	}
	if p.waitGone(ctx, proc, grace) {
		return fmt.Sprintf("pid %d (gateway by %s) stopped by SIGTERM", proc.PID, how), nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err := syscall.Kill(target, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return "", fmt.Errorf("SIGKILL pid %d: %w", proc.PID, err)
	}
	wait := p.KillWait
	if wait == 0 {
		wait = 10 * time.Second
	}
	if p.waitGone(ctx, proc, wait) {
		return fmt.Sprintf("pid %d (gateway by %s) did not stop within %s of SIGTERM; killed", proc.PID, how, grace), nil
	}
	return "", fmt.Errorf("pid %d still alive %s after SIGKILL", proc.PID, wait)
}

// waitGone polls until the process has exited (a zombie counts as gone) or
// another process holds its pid.
func (p *Process) waitGone(ctx context.Context, proc openclaw.Process, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := p.Procs.Stat(proc.PID)
		if err != nil || st.StartTime != proc.StartTime || st.State == 'Z' || st.State == 'X' {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
}

// Start runs the argv in a new session, so that it outlives the remediator
// and a signal to our process group does not reach it.
func (p *Process) Start(context.Context) (string, error) {
	if len(p.Argv) == 0 {
		return "", errors.New("no start argv")
	}
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if p.Output != "" {
		f, err := os.OpenFile(p.Output, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return "", fmt.Errorf("gateway output file: %w", err)
		}
		defer f.Close() // the child has its own copy
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", p.Argv[0], err)
	}
	if proc, err := p.Procs.Identify(cmd.Process.Pid); err == nil {
		rememberStarted(p.Port, proc)
	}
	go func() { _ = cmd.Wait() }() // reap it when it exits while we run
	return fmt.Sprintf("started %s as pid %d", p.Argv[0], cmd.Process.Pid), nil
}
