//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	expconfig "github.com/clawwatch/clawwatch/exporter/config"
	remconfig "github.com/clawwatch/clawwatch/remediator/config"

	"github.com/clawwatch/clawwatch/internal/gatewaysim"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// The scenarios of issue 8 on the simulator, each through the whole loop at
// demo timings: a fault, the alert it raises, the remediator's action, the
// verified recovery and the alert resolving. Each logs its timeline; the
// figures in docs/benchmarks.md come from these lines ("scenario …").

// TestLoopFDLeak: descriptors leak towards the gateway's limit (1024, as a
// service's LimitNOFILE); OpenClawGatewayFileDescriptorsNearLimit fires and
// a restart gives them back.
func TestLoopFDLeak(t *testing.T) {
	t.Parallel()
	l := startLoop(t, loopOptions{
		sim: simtest.Options{Args: []string{"--max-open-files", "1024"}},
		// The leak must not reach the limit before the restart: at the
		// limit the simulator cannot accept a connection and the hung
		// alert would race this one. A quarter of the limit leaves the
		// 16/s leak 48 s of room after the threshold.
		override: "{ _config+:: { fdCriticalRatio: 0.25 } }",
	})
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"fd_leak","per_second":16}`)
	tl := l.recover(fault, "OpenClawGatewayFileDescriptorsNearLimit", "restart", l.restartedFrom(pid, func(st openclawState) error {
		if st.fds > 100 {
			return fmt.Errorf("%d descriptors open after the restart", st.fds)
		}
		return nil
	}))
	l.logScenario("fd_leak", tl)
}

// TestLoopMemoryLeak: resident memory grows towards the memory_limit_bytes
// of the exporter's configuration; OpenClawGatewayMemoryNearLimit fires and
// a restart gives the memory back.
func TestLoopMemoryLeak(t *testing.T) {
	t.Parallel()
	const limit = 128 << 20
	l := startLoop(t, loopOptions{gateway: func(g *expconfig.Gateway) { g.MemoryLimitBytes = limit }})
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"memory_leak","bytes_per_second":"8MiB"}`)
	tl := l.recover(fault, "OpenClawGatewayMemoryNearLimit", "restart", l.restartedFrom(pid, func(st openclawState) error {
		if st.rss > limit/2 {
			return fmt.Errorf("%d bytes resident after the restart", st.rss)
		}
		return nil
	}))
	l.logScenario("memory_leak", tl)
}

// TestLoopEventLoopStall: the event loop stalls for 1.5 s every 10 s, and
// the gateway reports itself degraded in between;
// OpenClawGatewayEventLoopDegraded fires and a restart clears it.
func TestLoopEventLoopStall(t *testing.T) {
	t.Parallel()
	l := startLoop(t, loopOptions{})
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"event_loop_stall","every":"10s","duration":"1500ms"}`)
	tl := l.recover(fault, "OpenClawGatewayEventLoopDegraded", "restart", l.restartedFrom(pid, func(openclawState) error {
		var r openclaw.Readyz
		if err := getJSON(l.sim.URL+"/readyz", &r); err != nil {
			return err
		}
		if r.EventLoop == nil || r.EventLoop.Degraded {
			return fmt.Errorf("event loop after the restart: %+v", r.EventLoop)
		}
		return nil
	}))
	l.logScenario("event_loop_stall", tl)
}

// TestLoopLogFlood: a flood of debug lines fills the log directory past its
// budget (3 MiB here, OpenClawLogDirectoryOverBudget) and stops;
// cleanup_logs compresses the rotated files until the directory fits the
// target's retention (2 MiB), without touching the gateway.
func TestLoopLogFlood(t *testing.T) {
	t.Parallel()
	const budget = 3 << 20
	l := startLoop(t, loopOptions{
		sim:      simtest.Options{Args: []string{"--log-max-size", "1MiB"}},
		override: fmt.Sprintf("{ _config+:: { logDirectoryBudgetBytes: %d } }", budget),
		target: func(t *remconfig.Target) {
			compress := true
			t.Logs = remconfig.LogRetention{MaxTotalBytes: 2 << 20, Compress: &compress}
		},
	})
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"log_flood","bytes_per_second":"2MiB"}`)
	// The flood is a burst: it ends once it has filled the budget, and the
	// directory stays over it until the cleanup.
	simtest.Eventually(t, l.patience, func() error {
		if n := dirSize(t, l.sim.LogDir); n <= budget+budget/4 {
			return fmt.Errorf("log directory holds %d bytes", n)
		}
		return nil
	})
	if code, body := l.sim.Control(t, http.MethodDelete, "/faults/log_flood", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE /faults/log_flood: %d %s", code, body)
	}
	tl := l.recover(fault, "OpenClawLogDirectoryOverBudget", "cleanup_logs", func() error {
		if n := dirSize(t, l.sim.LogDir); n > budget {
			return fmt.Errorf("log directory holds %d bytes, over the budget of %d", n, budget)
		}
		return l.simReady()
	})
	// The cleanup compressed the rotated files and left the gateway alone.
	if gz, _ := filepath.Glob(filepath.Join(l.sim.LogDir, "openclaw-*.log.gz")); len(gz) == 0 {
		t.Errorf("no compressed archives in %s", l.sim.LogDir)
	}
	if now, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port); err != nil || now != pid {
		t.Errorf("gateway pid %d (%v) after cleanup_logs, want %d untouched", now, err, pid)
	}
	l.logScenario("log_flood", tl)
}

// rollbackWithoutApproval is the remediator's policies for the rollback
// loops: rollbacks run without the approval the default policies ask for.
// rollbackWithoutApproval lets every action a label names run at once, a
// rollback too (the default policies hold it for approval).
func rollbackWithoutApproval(c *remconfig.Config) {
	c.Policies = []*remconfig.Policy{{Name: "by_label", Matchers: []string{`remediation=~".+"`}}}
}

// approvalFor holds the action for a person's approval.
func approvalFor(action string) func(*remconfig.Config) {
	return func(c *remconfig.Config) {
		c.Policies = []*remconfig.Policy{{Name: action + "_needs_approval", Matchers: []string{`remediation="` + action + `"`}, Approval: true}}
	}
}

// TestLoopRollbackAfterUpgrade: the gateway runs version A and is verified
// healthy by a restart, so the remediator records A; it is then replaced by
// version B whose model answers badly. OpenClawReasoningDegradedAfterUpgrade
// fires and the rollback command replaces B with A.
func TestLoopRollbackAfterUpgrade(t *testing.T) {
	t.Parallel()
	const versionA, versionB = "2026.9.5", "2026.9.6"
	port, ctlPort := simtest.FreePort(t), simtest.FreePort(t)
	stateDir, logDir := t.TempDir(), t.TempDir()
	ctl := "127.0.0.1:" + strconv.Itoa(ctlPort)
	rollback := []string{simtest.Binary(t), "--replace", "--detach", "--port", strconv.Itoa(port),
		"--control.listen-address", ctl, "--state-dir", stateDir, "--log-dir", logDir, "--gateway-version", "{version}"}
	l := startLoop(t, loopOptions{
		sim: simtest.Options{Port: port, ControlPort: ctlPort, StateDir: stateDir, LogDir: logDir, Version: versionA},
		gateway: func(g *expconfig.Gateway) {
			g.Models = []*expconfig.Model{reasoningModel("sim", fmt.Sprintf("http://127.0.0.1:%d", port))}
		},
		// Judge reasoning over 10 s (five runs), and remember a version
		// change for 10 minutes: the demo's 20 s would forget version A
		// before the degradation had lasted long enough to count.
		override: "{ _config+:: { reasoningWindow: '10s', rollbackWindow: '10m' } }",
		// Rollbacks run without approval here (the default asks for one).
		remediator: rollbackWithoutApproval,
		target:     func(t *remconfig.Target) { t.Rollback.Command = rollback },
	})
	l.waitFor(`openclaw_reasoning_pass_ratio == 1`)

	// Version A verified healthy: a hang healed by a restart records it.
	hang := time.Now()
	l.sim.Fault(t, `{"kind":"hang"}`)
	l.recover(hang, "OpenClawGatewayHung", "restart", l.simReady)
	l.waitFor(`openclaw_reasoning_pass_ratio == 1`)

	// The upgrade to B: a new process on the same ports, answering badly.
	fault := time.Now()
	simtest.Start(t, simtest.Options{Port: port, ControlPort: ctlPort, StateDir: stateDir, LogDir: logDir, Version: versionB,
		Args: []string{"--replace", "--fault", `{"kind":"reasoning_degraded"}`}})
	tl := l.recover(fault, "OpenClawReasoningDegradedAfterUpgrade", "rollback", func() error {
		var st gatewaysim.State
		if err := getJSON(l.sim.ControlURL+"/state", &st); err != nil || st.Version != versionA {
			return fmt.Errorf("version %q after the rollback, want %s (%v)", st.Version, versionA, err)
		}
		if v, err := l.query(fmt.Sprintf(`openclaw_reasoning_pass_ratio == 1 and on (gateway) openclaw_gateway_info{version=%q}`, versionA)); err != nil || len(v) == 0 {
			return fmt.Errorf("no passing reasoning run on %s yet (%v)", versionA, err)
		}
		return nil
	})
	var out string
	for _, inc := range l.mustIncidents() {
		if inc.Action == "rollback" {
			out = inc.Actions[len(inc.Actions)-1].Output
		}
	}
	if !strings.Contains(out, "rollback "+versionB+" -> "+versionA) {
		t.Errorf("rollback output %q, want %s -> %s", out, versionB, versionA)
	}
	l.logScenario("rollback", tl)
}

// TestLoopRestartLoopOpensCircuit: every restart brings the gateway back
// hung, so each fails verification; after the attempts (3 per window) the
// circuit opens, OpenClawRemediatorCircuitOpen fires, and while Alertmanager
// keeps sending the hung alert nothing restarts the gateway any more.
func TestLoopRestartLoopOpensCircuit(t *testing.T) {
	t.Parallel()
	l := startLoop(t, loopOptions{
		restartArgs:    []string{"--fault", `{"kind":"hang"}`},
		verifyTimeout:  "3s",
		repeatInterval: "3s", // Alertmanager re-sends the firing alert
	})
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"hang"}`)
	var firing, opened time.Time
	simtest.Eventually(t, l.patience, func() error {
		if st, err := l.alertState("OpenClawGatewayHung"); err != nil || st != "firing" {
			return fmt.Errorf("OpenClawGatewayHung is %q (%v)", st, err)
		}
		firing = time.Now()
		return nil
	})
	// Three attempts, each restarted, hung again and not verified.
	var inc incident
	simtest.Eventually(t, 3*l.patience, func() error {
		if v, err := l.query(`openclaw_remediator_circuit_open{target="default"} == 1`); err != nil || len(v) == 0 {
			return fmt.Errorf("circuit not open yet (%v)", err)
		}
		for _, i := range l.mustIncidents() {
			// The escalated incident, not a later occurrence of the alert
			// that the open circuit refused.
			if i.AlertName == "OpenClawGatewayHung" && i.State == "done" && len(i.Actions) > 0 {
				inc = i
				opened = time.Now()
				return nil
			}
		}
		return fmt.Errorf("no finished incident for the hang yet")
	})
	if len(inc.Actions) != 3 || !strings.HasPrefix(inc.Reason, "escalated") {
		t.Fatalf("incident %s: %d attempts, reason %q; want 3 and escalated", inc.ID, len(inc.Actions), inc.Reason)
	}
	for _, a := range inc.Actions {
		if a.Action != "restart" || a.Result != "verify_failed" {
			t.Errorf("attempt %+v, want a restart that failed verification", a)
		}
	}
	// From now on nothing may restart the gateway: not while the circuit
	// alert fires, not while the hung alert is sent again and again.
	pid, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port)
	if err != nil {
		t.Fatal(err)
	}
	actions := l.scalar(`sum(openclaw_remediator_actions_total)`)
	received := l.scalar(`sum(openclaw_remediator_alerts_received_total{status="firing"})`)
	var circuitFiring time.Time
	simtest.Eventually(t, l.patience, func() error {
		if circuitFiring.IsZero() {
			if st, err := l.alertState("OpenClawRemediatorCircuitOpen"); err != nil || st != "firing" {
				return fmt.Errorf("OpenClawRemediatorCircuitOpen is %q (%v)", st, err)
			}
			circuitFiring = time.Now()
		}
		if n := l.scalar(`sum(openclaw_remediator_alerts_received_total{status="firing"})`); n < received+2 {
			return fmt.Errorf("%v firing alerts received, waiting for two more than %v", n, received)
		}
		return nil
	})
	if n := l.scalar(`sum(openclaw_remediator_actions_total)`); n != actions {
		t.Errorf("%v actions after the circuit opened, want %v", n, actions)
	}
	if now, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port); err != nil || now != pid {
		t.Errorf("gateway pid %d (%v), want %d: restarted with the circuit open", now, err, pid)
	}
	if st, _ := l.alertState("OpenClawGatewayHung"); st != "firing" {
		t.Errorf("OpenClawGatewayHung is %q, want still firing", st)
	}
	for _, i := range l.mustIncidents() {
		for _, a := range i.Actions {
			if a.StartedAt.After(opened) {
				t.Errorf("incident %s (%s, %s) acted after the circuit opened: %+v", i.ID, i.AlertName, i.Decision, a)
			}
		}
	}
	s := func(at time.Time) string { return fmt.Sprintf("%.1fs", at.Sub(fault).Seconds()) }
	t.Logf("scenario restart_loop (demo timings): alert firing %s, circuit open %s after %d attempts, circuit alert firing %s, no action since",
		s(firing), s(opened), len(inc.Actions), s(circuitFiring))
}

// TestLoopApprovalRequired: restarts need approval by policy; the hung
// gateway's incident waits as pending and nothing restarts it until the
// test approves it through the API, then the restart runs and is verified.
func TestLoopApprovalRequired(t *testing.T) {
	t.Parallel()
	l := startLoop(t, loopOptions{remediator: approvalFor("restart")})
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"hang"}`)
	var firing, received time.Time
	simtest.Eventually(t, l.patience, func() error {
		if st, err := l.alertState("OpenClawGatewayHung"); err != nil || st != "firing" {
			return fmt.Errorf("OpenClawGatewayHung is %q (%v)", st, err)
		}
		firing = time.Now()
		return nil
	})
	var pending incident
	simtest.Eventually(t, l.patience, func() error {
		for _, i := range l.mustIncidents() {
			if i.AlertName == "OpenClawGatewayHung" && i.State == "pending" && i.Decision == "pending_approval" {
				pending, received = i, time.Now()
				return nil
			}
		}
		return fmt.Errorf("no pending incident yet")
	})
	// Waiting, visibly: the metrics say so for a few seconds, and nothing
	// acts meanwhile.
	l.waitFor(`openclaw_remediator_pending_approvals == 1 and on () openclaw_remediator_pending_approval_oldest_age_seconds >= 3`)
	if n := l.scalar(`sum(openclaw_remediator_actions_total)`); n != 0 {
		t.Errorf("%v actions while the incident waits for approval", n)
	}
	if now, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port); err != nil || now != pid {
		t.Errorf("gateway pid %d (%v) before approval, want %d", now, err, pid)
	}
	if st, _ := l.alertState("OpenClawGatewayHung"); st != "firing" {
		t.Errorf("OpenClawGatewayHung is %q while waiting, want firing", st)
	}
	approved := time.Now()
	if code, body := l.remediatorAPI(http.MethodPost, "/api/v1/incidents/"+pending.ID+"/approve"); code != http.StatusOK {
		t.Fatalf("approve %s: %d %s", pending.ID, code, body)
	}
	tl := l.recover(fault, "OpenClawGatewayHung", "restart", l.restartedFrom(pid, func(openclawState) error { return nil }))
	tl.firing, tl.received = firing, received // recover began after the approval
	l.waitFor(`openclaw_remediator_pending_approvals == 0`)
	t.Logf("scenario approval (demo timings): approved at %.1fs", approved.Sub(fault).Seconds())
	l.logScenario("approval", tl)
}

// logScenario logs a scenario's timeline in the form docs/benchmarks.md
// quotes.
func (l *loop) logScenario(name string, tl timeline) {
	l.t.Helper()
	l.t.Logf("scenario %s (demo timings): %s", name, tl)
}

// openclawState is what a restarted gateway is judged by.
type openclawState struct {
	pid int
	fds int
	rss uint64
}

// restartedFrom says whether another process than pid now serves the
// gateway's port, ready, and passes check.
func (l *loop) restartedFrom(pid int, check func(openclawState) error) func() error {
	return func() error {
		now, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port)
		if err != nil {
			return err
		}
		if now == pid {
			return fmt.Errorf("pid %d still serves the gateway", pid)
		}
		if err := l.simReady(); err != nil {
			return err
		}
		st := openclawState{pid: now}
		if st.fds, err = openclaw.DefaultProcFS.OpenFDs(now); err != nil {
			return err
		}
		if st.rss, err = openclaw.DefaultProcFS.RSSBytes(now); err != nil {
			return err
		}
		return check(st)
	}
}

// scalar returns the single value of a query, or fails the test.
func (l *loop) scalar(q string) float64 {
	l.t.Helper()
	v, err := l.query(q)
	if err != nil || len(v) != 1 {
		l.t.Fatalf("%s: %d samples, %v", q, len(v), err)
	}
	pair, _ := v[0]["value"].([]any)
	if len(pair) != 2 {
		l.t.Fatalf("%s: value %v", q, v[0]["value"])
	}
	s, _ := pair[1].(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		l.t.Fatalf("%s: value %q: %v", q, s, err)
	}
	return f
}

func (l *loop) mustIncidents() []incident {
	l.t.Helper()
	incs, err := l.incidents()
	if err != nil {
		l.t.Fatal(err)
	}
	return incs
}

// remediatorAPI sends an authenticated request to the remediator's API.
func (l *loop) remediatorAPI(method, path string) (int, string) {
	l.t.Helper()
	req, _ := http.NewRequest(method, l.remediator+path, nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func getJSON(url string, v any) error {
	code, body, err := httpGet(url, 2*time.Second)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s: %d %s", url, code, body)
	}
	return json.Unmarshal(body, v)
}

// dirSize is the size of the regular files in dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}
