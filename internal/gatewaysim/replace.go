package gatewaysim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// replaceGrace is how long a replaced gateway gets between SIGTERM and
// SIGKILL: the gateway's own stop timeout (TimeoutStopSec=30).
const replaceGrace = 30 * time.Second

// replaceGateway stops the gateway listening on port: SIGTERM, then SIGKILL
// after grace. Nothing listening is fine; a listener that is not titled like
// a gateway is left alone, and the start then fails on the taken port.
func replaceGateway(port int, grace time.Duration, logf func(openclaw.Level, string, string, ...any)) error {
	procs := openclaw.DefaultProcFS
	pid, err := procs.ListenerPID(port)
	if errors.Is(err, openclaw.ErrNotFound) {
		return nil
	}
	if err != nil {
		return &StartError{Code: 1, Err: fmt.Errorf("--replace: find the gateway on port %d: %w", port, err)}
	}
	st, err := procs.Stat(pid)
	if err != nil {
		return nil // gone meanwhile
	}
	argv, _ := procs.Cmdline(pid)
	if !openclaw.IsGatewayTitle(st.Comm, argv) {
		return nil
	}
	logf(openclaw.LevelInfo, "gateway", "replacing the gateway on port %d (pid %d)", port, pid)
	if err := terminate(pid); err != nil {
		return &StartError{Code: 1, Err: fmt.Errorf("--replace: SIGTERM pid %d: %w", pid, err)}
	}
	if waitGone(procs, pid, st.StartTime, grace) {
		return nil
	}
	logf(openclaw.LevelWarn, "gateway", "pid %d did not stop within %s of SIGTERM; killing it", pid, grace)
	if err := kill(pid); err != nil {
		return &StartError{Code: 1, Err: fmt.Errorf("--replace: SIGKILL pid %d: %w", pid, err)}
	}
	if !waitGone(procs, pid, st.StartTime, 10*time.Second) {
		return &StartError{Code: 1, Err: fmt.Errorf("--replace: pid %d still alive after SIGKILL", pid)}
	}
	return nil
}

// waitGone polls until pid has exited (a zombie counts as gone, so does
// another process under the same pid) or d passes.
func waitGone(procs openclaw.ProcFS, pid int, start uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		st, err := procs.Stat(pid)
		if err != nil || st.StartTime != start || st.State == 'Z' || st.State == 'X' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DetachFlag is the flag that makes the simulator start itself in the
// background; Detach removes it from the arguments it passes on.
const DetachFlag = "--detach"

// Detach starts this binary again with args (without DetachFlag) in a new
// session with its output discarded, and waits until the new simulator's
// control API at controlAddr answers for its pid, so that a caller such as
// the remediator's rollback command returns once the gateway runs. A start
// failure is returned as a StartError with the child's exit code.
func Detach(args []string, controlAddr string, timeout time.Duration) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, &StartError{Code: 1, Err: fmt.Errorf("%s: find own binary: %w", DetachFlag, err)}
	}
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return a == DetachFlag || strings.HasPrefix(a, DetachFlag+"=")
	})
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, &StartError{Code: 1, Err: fmt.Errorf("%s: %w", DetachFlag, err)}
	}
	defer null.Close()
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.SysProcAttr = detachedAttr()
	if err := cmd.Start(); err != nil {
		return 0, &StartError{Code: 1, Err: fmt.Errorf("%s: start: %w", DetachFlag, err)}
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if servesFor(ctx, controlAddr, pid) {
			return pid, nil
		}
		select {
		case err := <-exited:
			code := 1
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() > 0 {
				code = ee.ExitCode()
			}
			return 0, &StartError{Code: code, Err: fmt.Errorf("%s: the simulator exited before serving (%v); run it without %s to see why", DetachFlag, err, DetachFlag)}
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return 0, &StartError{Code: 1, Err: fmt.Errorf("%s: the simulator (pid %d) did not serve its control API within %s", DetachFlag, pid, timeout)}
		case <-tick.C:
		}
	}
}

// servesFor says whether the control API at addr answers for pid.
func servesFor(ctx context.Context, addr string, pid int) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/state", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st State
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil && st.PID == pid
}
