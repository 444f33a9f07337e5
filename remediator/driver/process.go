package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clawwatch/clawwatch/internal/configpath"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// ProcessSpec is the process kind's section: the argv that starts the
// gateway, detached, and the file that receives its output.
type ProcessSpec struct {
	Shared `yaml:",inline"`
	Start  []string `yaml:"start,omitempty"`
	Output string   `yaml:"output,omitempty"`
}

// Validate checks the argv and resolves the output file.
func (s *ProcessSpec) Validate(dir, home string) error {
	s.Output = configpath.Resolve(s.Output, dir, home)
	return checkArgv(s.Kind, "start", s.Start)
}

// New builds the driver.
func (s *ProcessSpec) New(t Target) (Driver, error) {
	return &Process{Procs: t.Procs, Port: t.Port, LockDirs: t.LockDirs, Argv: s.Start, Dir: s.Dir, Env: s.Env, Output: s.Output}, nil
}

// Process signals the gateway process found like the exporter finds it (the
// listener on its port, then the live owner of a trusted lock) and starts it
// again with a configured argv, detached in its own session. What it finds
// it signals only once Identity confirms it to be the gateway: a lock says
// where to look, never what may be killed.
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

	// kill sends the signals; nil is syscall.Kill. Tests that must not
	// signal whatever a bug would reach (pid 1) replace it.
	kill func(pid int, sig syscall.Signal) error
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
	return openclaw.Identity{Procs: p.Procs, Started: slices.Clone(started.byPort[p.Port])}
}

// Stop sends SIGTERM to the gateway (its whole process group when it leads
// one, so Node workers go with it), waits up to grace, then SIGKILL. It
// signals nothing that it cannot show to be the gateway: whatever holds
// the port may be another program, and whatever a lock names may be any.
func (p *Process) Stop(ctx context.Context, grace time.Duration) (string, error) {
	proc, err := p.Find()
	if errors.Is(err, openclaw.ErrNotFound) {
		return "no gateway process running" + p.ignoredLocks(), nil
	}
	if err != nil {
		return "", fmt.Errorf("find gateway process: %w", err)
	}
	how, err := p.signal(proc, syscall.SIGTERM)
	if errors.Is(err, openclaw.ErrNoProcess) {
		return fmt.Sprintf("pid %d exited before it was signalled", proc.PID), nil
	}
	if err != nil {
		return "", err
	}
	sent := time.Now()
	if p.waitGone(ctx, proc, grace) {
		return fmt.Sprintf("pid %d (gateway by %s) stopped by SIGTERM in %s", proc.PID, how, time.Since(sent).Round(time.Millisecond)), nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	// Past the grace, a gateway that says it is draining (finishing agent
	// turns before it stops, as its SIGTERM handler does) is given the time
	// it announced, not killed mid-turn.
	if p.waitDrain(ctx, proc, sent) {
		return fmt.Sprintf("pid %d (gateway by %s) stopped by SIGTERM in %s, draining its active work past the %s grace", proc.PID, how, time.Since(sent).Round(time.Millisecond), grace), nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if _, err := p.signal(proc, syscall.SIGKILL); err != nil && !errors.Is(err, openclaw.ErrNoProcess) {
		return "", err
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

// signal sends sig to the gateway process proc, confirmed again right
// before (its pid may name another process since it was found, or since
// the last signal), and to its process group only when proc leads it: a
// group that proc does not lead is not the gateway's to end. pid 1 and
// below are refused whatever confirms them, since kill(-1) is every
// process and kill(0) our own group.
func (p *Process) signal(proc openclaw.Process, sig syscall.Signal) (openclaw.Evidence, error) {
	if proc.PID <= 1 {
		return "", fmt.Errorf("refusing to %s pid %d found for the gateway on port %d: pid 1 is init, and its group every process", sigName(sig), proc.PID, p.Port)
	}
	how, err := p.identity().Confirm(proc)
	if errors.Is(err, openclaw.ErrNoProcess) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("refusing to signal the process found for the gateway on port %d: %w", p.Port, err)
	}
	if err := p.deliver(proc, sig); err != nil {
		return "", err
	}
	return how, nil
}

func sigName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	}
	return sig.String()
}

// ignoredLocks tells why a lock that names a process did not find it as
// the gateway: an operator reading "no gateway process running" next to a
// lock file should learn that the lock is not trusted, and why.
func (p *Process) ignoredLocks() string {
	locks, err := openclaw.FindLocks(p.LockDirs...)
	if err != nil {
		return ""
	}
	var why []string
	for _, lf := range locks {
		if !lf.Trusted() {
			why = append(why, lf.Untrusted.Error())
		}
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf(" (ignored %d untrusted lock(s): %s)", len(why), strings.Join(why, "; "))
}

// waitGone polls until the process has exited (a zombie counts as gone) or
// another process holds its pid.
// MaxDrain is the longest a draining gateway is waited for after SIGTERM:
// the gateway's own stop policy (2026.9.6 logs "shutdown budget …:
// drain=315000ms shutdown=325000ms"; 330 s in all), after which it cancels
// what is left itself.
const MaxDrain = 330 * time.Second

// drainSettle is how long after SIGTERM a gateway that does not say it
// drains is still asked again: its /readyz answer is cached for 1 s.
const drainSettle = 3 * time.Second

// waitDrain waits, up to MaxDrain after sent, for proc to exit while the
// gateway on its port reports that it drains (/readyz failing
// gateway-draining, or /startupz draining); false when it says it does not
// (or never answered that it does) and is still alive. A gateway seen
// draining that then does not answer (busy finishing its turns) is still
// draining.
func (p *Process) waitDrain(ctx context.Context, proc openclaw.Process, sent time.Time) bool {
	if p.Port <= 0 {
		return false
	}
	seen := false
	for time.Since(sent) < MaxDrain {
		// The gateway caches its readiness for a second: right after the
		// signal a "ready" answer is no answer yet.
		switch drainState(ctx, p.Port) {
		case draining:
			seen = true
		case notDraining:
			if time.Since(sent) > drainSettle {
				return false
			}
		default:
			if !seen && time.Since(sent) > drainSettle {
				return false
			}
		}
		if p.waitGone(ctx, proc, time.Second) {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	return false
}

// The answers of drainState.
const (
	noAnswer = iota
	notDraining
	draining
)

// drainState asks the gateway on this host's port whether it is
// draining: /startupz status draining (2026.9.6 and newer), or /readyz
// 503 with gateway-draining among its failing checks.
func drainState(ctx context.Context, port int) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	get := func(path string, v any) bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(v) == nil
	}
	var st struct {
		Status string `json:"status"`
	}
	startupz := get("/startupz", &st)
	if startupz && st.Status == "draining" {
		return draining
	}
	var rz openclaw.Readyz
	switch readyz := get("/readyz", &rz); {
	case readyz && slices.Contains(rz.Failing, openclaw.FailingDraining):
		return draining
	case readyz || startupz:
		return notDraining
	}
	return noAnswer
}

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
	cmd := exec.Command(lookPath(p.Argv[0], p.Env), p.Argv[1:]...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.SysProcAttr = detachedAttr()
	if p.Output != "" {
		f, err := openOutput(p.Output)
		if err != nil {
			return "", err
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
