// Package simtest builds the simulator binary and runs it as a child process
// for tests that must observe it from outside: its pid, /proc, its files,
// signals and exit codes.
package simtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/gatewaysim"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// Binary returns the path of an openclaw-gatewaysim built from this
// checkout, once per test binary. $CLAWWATCH_GATEWAYSIM overrides it.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CLAWWATCH_GATEWAYSIM"); p != "" {
		return p
	}
	return testbin.Command(t, "openclaw-gatewaysim")
}

// KillListener kills the process listening on port, unless it is this one:
// a gateway that a remediator restarted is nobody's child, so no other
// cleanup knows it.
func KillListener(port int) {
	if pid, err := openclaw.DefaultProcFS.ListenerPID(port); err == nil && pid != os.Getpid() {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill() // SIGKILL, or TerminateProcess on Windows
			p.Release()
		}
	}
}

// FreePort returns a loopback TCP port that was free a moment ago and that
// no other test on this machine holds. Tests run side by side, in several
// processes (make test runs the end-to-end package as two), and a port of
// theirs is free for a while although taken: before its server starts, and
// while a gateway restarts. So each port handed out is reserved by a file in
// portDir until the test ends; a crashed run's reservations expire.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if reservePort(t, port) {
			return port
		}
	}
	t.Fatalf("no free port that another test has not reserved in %s", portDir())
	return 0
}

// portReservationTTL outlives any test: make test's timeout is 60 minutes.
const portReservationTTL = 2 * time.Hour

func portDir() string { return filepath.Join(os.TempDir(), "clawwatch-test-ports") }

// reservePort takes port for the test, or reports that another test holds it.
func reservePort(t testing.TB, port int) bool {
	t.Helper()
	dir := portDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("port reservations: %v", err)
	}
	p := filepath.Join(dir, strconv.Itoa(port))
	for try := 0; try < 2; try++ {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			t.Cleanup(func() { _ = os.Remove(p) })
			return true
		}
		st, serr := os.Stat(p)
		if !errors.Is(err, os.ErrExist) || serr != nil || time.Since(st.ModTime()) < portReservationTTL {
			return false
		}
		_ = os.Remove(p) // expired: a crashed run's
	}
	return false
}

// Eventually polls cond until it returns nil or the deadline passes, and
// fails the test with cond's last error.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Options for Start; zero values get private directories and free ports.
type Options struct {
	Port        int
	ControlPort int
	StateDir    string
	LogDir      string
	Version     string
	Token       string
	Args        []string // more flags
}

// Sim is a running simulator process.
type Sim struct {
	Cmd        *exec.Cmd
	PID        int
	Port       int
	URL        string // gateway base URL
	ControlURL string
	StateDir   string
	LogDir     string
	output     *Buffer

	done    chan struct{}
	waitErr error
}

// Start runs the simulator and waits until its control API answers with its
// pid. When a free port was taken by someone else in the meantime (exit 78)
// it tries again on other ports. It is killed at the end of the test.
func Start(t testing.TB, o Options) *Sim {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := Launch(t, o)
		if err != nil {
			t.Fatal(err)
		}
		var exited bool
		Eventually(t, 30*time.Second, func() error {
			select {
			case <-s.done:
				exited = true
				return nil
			default:
			}
			resp, err := http.Get(s.ControlURL + "/state")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var st gatewaysim.State
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.PID != s.PID {
				return fmt.Errorf("control port answered by pid %d, not %d (%v)", st.PID, s.PID, err)
			}
			return nil
		})
		if !exited {
			return s
		}
		code := s.Wait(t, time.Second)
		portsChosen := o.Port != 0 || o.ControlPort != 0
		if code != gatewaysim.ExitConfig || portsChosen || attempt == 3 {
			t.Fatalf("simulator exited early with %d: %s", code, s.Output())
		}
	}
}

// Launch starts the simulator without waiting for it, for tests that expect
// it to fail.
func Launch(t testing.TB, o Options) (*Sim, error) {
	t.Helper()
	if o.Port == 0 {
		o.Port = FreePort(t)
	}
	if o.ControlPort == 0 {
		o.ControlPort = FreePort(t)
	}
	if o.StateDir == "" {
		o.StateDir = t.TempDir()
	}
	if o.LogDir == "" {
		o.LogDir = t.TempDir()
	}
	if o.Version == "" {
		o.Version = "2026.9.6"
	}
	args := []string{
		"--port", strconv.Itoa(o.Port),
		"--control.listen-address", "127.0.0.1:" + strconv.Itoa(o.ControlPort),
		"--state-dir", o.StateDir,
		"--log-dir", o.LogDir,
		"--gateway-version", o.Version,
		"--token", o.Token,
	}
	s := &Sim{
		Port:       o.Port,
		URL:        "http://127.0.0.1:" + strconv.Itoa(o.Port),
		ControlURL: "http://127.0.0.1:" + strconv.Itoa(o.ControlPort),
		StateDir:   o.StateDir,
		LogDir:     o.LogDir,
		output:     &Buffer{},
		done:       make(chan struct{}),
	}
	s.Cmd = exec.Command(Binary(t), append(args, o.Args...)...)
	s.Cmd.Stdout, s.Cmd.Stderr = s.output, s.output
	if err := s.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	s.PID = s.Cmd.Process.Pid
	go func() {
		s.waitErr = s.Cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.Cmd.Process.Kill()
		<-s.done
	})
	return s, nil
}

// Wait waits for the process to exit and returns its exit code.
func (s *Sim) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		t.Fatalf("simulator did not exit within %s", timeout)
	}
	return ExitCode(s.waitErr)
}

// ExitCode turns what exec.Cmd.Wait returned into a shell-style exit code:
// 128+N for death by signal N, -1 when the process could not be waited for.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// Fault posts a fault; it fails the test unless the answer is 204.
func (s *Sim) Fault(t testing.TB, spec string) {
	t.Helper()
	code, body := s.Control(t, http.MethodPost, "/faults", spec)
	if code != http.StatusNoContent {
		t.Fatalf("POST /faults %s: %d %s", spec, code, body)
	}
}

// Control sends a request to the control API and returns status and body.
func (s *Sim) Control(t testing.TB, method, path, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.ControlURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// State reads GET /state.
func (s *Sim) State(t testing.TB) gatewaysim.State {
	t.Helper()
	code, body := s.Control(t, http.MethodGet, "/state", "")
	if code != http.StatusOK {
		t.Fatalf("GET /state: %d %s", code, body)
	}
	var st gatewaysim.State
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("GET /state: %v", err)
	}
	return st
}

// Output is what the process printed so far (stdout and stderr).
func (s *Sim) Output() string { return s.output.String() }

// Buffer collects a process's output while the test reads it: safe for
// one writer and concurrent readers.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Healthy says whether the gateway at url answers /healthz and /readyz with 200.
func Healthy(url string) error {
	c := http.Client{Timeout: 2 * time.Second}
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := c.Get(url + p)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	return nil
}
