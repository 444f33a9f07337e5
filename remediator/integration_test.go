package remediator_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The fixtures name target "default"; the incident id of the hung-gateway
// fixture is fixed by its fingerprint and startsAt.
var hungID = journal.ID("6f8b1a2c3d4e5f60", mustTime("2026-11-20T22:41:07.118Z"))

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestHangIsRestartedAndVerified(t *testing.T) {
	sim, target := remtest.SimTarget(t, "default")
	h := harness.New(t, remtest.LimitsForTests+"targets:"+target)
	sim.Fault(t, `{"kind":"hang"}`)
	if err := simtest.Healthy(sim.URL); err == nil {
		t.Fatal("hung simulator answered")
	}
	code, ack := h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
	if code != http.StatusOK || ack.New != 1 {
		t.Fatalf("webhook: %d %+v", code, ack)
	}
	inc := h.WaitIncident(hungID, 60*time.Second, remtest.Done)
	if inc.Decision != journal.DecisionExecuted || len(inc.Actions) != 1 || inc.Actions[0].Result != journal.ResultSuccess {
		t.Fatalf("incident %+v", inc)
	}
	if err := simtest.Healthy(sim.URL); err != nil {
		t.Fatalf("gateway not healthy after the restart: %v", err)
	}
	if !strings.Contains(inc.Actions[0].Verification, "healthy after") {
		t.Errorf("verification %q", inc.Actions[0].Verification)
	}
	pid, err := openclaw.DefaultProcFS.ListenerPID(sim.Port)
	if err != nil || pid == sim.PID {
		t.Fatalf("listener pid %d (%v), the hung one was %d", pid, err, sim.PID)
	}
	// Evidence of the hung gateway was kept.
	snaps, _ := filepath.Glob(filepath.Join(h.Rem.Config().Diagnostics.Dir, "*", "process.txt"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v", snaps)
	}
	if b, _ := os.ReadFile(snaps[0]); !strings.Contains(string(b), fmt.Sprintf("pid: %d", sim.PID)) {
		t.Errorf("evidence does not name the hung pid %d:\n%s", sim.PID, b)
	}
	if got := h.Value("openclaw_remediator_actions_total", "action", "restart", "target", "default", "result", journal.ResultSuccess); got != 1 {
		t.Errorf("actions_total{success} = %v", got)
	}
}

func TestCrashWithLockIsCleanedAndRestarted(t *testing.T) {
	sim, target := remtest.SimTarget(t, "default")
	h := harness.New(t, remtest.LimitsForTests+"targets:"+target)
	sim.Fault(t, `{"kind":"crash"}`)
	sim.Wait(t, 10*time.Second)
	lockDirs := openclaw.LockDirs(sim.StateDir, "", os.Getuid())
	locks, _ := openclaw.FindLocks(lockDirs...)
	if len(locks) == 0 {
		t.Fatal("the crash left no lock")
	}
	code, ack := h.Post(remtest.Fixture(t, "group_mixed.json"))
	if code != http.StatusOK || ack.New != 2 || ack.NoMatch != 1 || ack.Resolved != 1 {
		t.Fatalf("webhook: %d %+v", code, ack)
	}
	lockID := journal.ID("0a1b2c3d4e5f6071", mustTime("2026-11-20T23:02:52.5Z"))
	downID := journal.ID("1b2c3d4e5f607182", mustTime("2026-11-20T23:03:07.5Z"))
	for _, id := range []string{lockID, downID} {
		inc := h.WaitIncident(id, 60*time.Second, remtest.Done)
		if inc.Decision != journal.DecisionExecuted || inc.Actions[len(inc.Actions)-1].Result != journal.ResultSuccess {
			t.Fatalf("%s: %+v", inc.Action, inc)
		}
	}
	if err := simtest.Healthy(sim.URL); err != nil {
		t.Fatalf("gateway not healthy: %v", err)
	}
	// The only lock left is the new gateway's, and it is live.
	locks, _ = openclaw.FindLocks(lockDirs...)
	for _, l := range locks {
		if st, _ := l.Lock.State(openclaw.DefaultProcFS); st != openclaw.LockLive {
			t.Errorf("lock %s is %s after the cleanup", l.Path, st)
		}
	}
	if got := h.Value("openclaw_remediator_incidents_total", "decision", journal.DecisionNoMatch); got != 1 {
		t.Errorf("no_match = %v", got)
	}
}

func TestLogFloodIsCleanedUp(t *testing.T) {
	sim, target := remtest.SimTarget(t, "default", "--log-max-size", "64KiB")
	target += "    log_retention: {max_age: 30d, max_total_bytes: 100KiB, compress: true}\n"
	h := harness.New(t, remtest.LimitsForTests+"targets:"+target)
	sim.Fault(t, `{"kind":"log_flood","bytes_per_second":"4MiB"}`)
	simtest.Eventually(t, 30*time.Second, func() error {
		m, _ := filepath.Glob(filepath.Join(sim.LogDir, "openclaw-*.5.log"))
		if len(m) == 0 {
			return fmt.Errorf("no fifth archive yet")
		}
		return nil
	})
	sim.Control(t, http.MethodDelete, "/faults/log_flood", "")
	active, err := openclaw.NewestLog("", sim.LogDir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(active.Path)
	code, _ := h.Post(remtest.Fixture(t, "newer_alertmanager_fields.json"))
	if code != http.StatusOK {
		t.Fatalf("webhook: %d", code)
	}
	id := journal.ID("4e5f60718293a4b5", mustTime("2026-11-21T03:14:15.9Z"))
	inc := h.WaitIncident(id, 30*time.Second, remtest.Done)
	if inc.Actions[0].Result != journal.ResultSuccess {
		t.Fatalf("%+v", inc.Actions)
	}
	after, err := os.Stat(active.Path)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the active log %s was touched: %v", active.Path, err)
	}
	var total int64
	entries, _ := os.ReadDir(sim.LogDir)
	for _, e := range entries {
		fi, _ := e.Info()
		if filepath.Join(sim.LogDir, e.Name()) == active.Path {
			continue
		}
		if strings.HasSuffix(e.Name(), ".log") {
			t.Errorf("rotated file %s was not compressed", e.Name())
		}
		total += fi.Size()
	}
	if total+after.Size() > 100<<10 && total > 0 {
		t.Errorf("%d bytes of archives remain beside a %d-byte active log, budget 100KiB", total, after.Size())
	}
	t.Logf("cleanup: %s", inc.Actions[0].Output)
}

func TestRepeatedFailuresOpenTheCircuit(t *testing.T) {
	// The gateway restarts into one that never becomes ready.
	sim, target := remtest.SimTarget(t, "default")
	target = strings.Replace(target, `"--token",""`, `"--token","","--startup-delay","1h"`, 1)
	target = strings.Replace(target, "timeout: 20s", "timeout: 1s", 1)
	h := harness.New(t, remtest.LimitsForTests+"targets:"+target)
	sim.Fault(t, `{"kind":"hang"}`)
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
	inc := h.WaitIncident(hungID, 90*time.Second, remtest.Done)
	if len(inc.Actions) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(inc.Actions), inc.Actions)
	}
	for _, a := range inc.Actions {
		if a.Result != journal.ResultVerifyFailed {
			t.Errorf("attempt %d: %s %s", a.Attempt, a.Result, a.Error)
		}
	}
	if got := h.Value("openclaw_remediator_circuit_open", "target", "default"); got != 1 {
		t.Fatalf("circuit_open = %v", got)
	}
	// Another alert for the target is refused by the open circuit, and the
	// circuit stays open.
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", "7f8b1a2c3d4e5f61"))
	other := h.WaitIncident(journal.ID("7f8b1a2c3d4e5f61", mustTime("2026-11-20T22:41:07.118Z")), 10*time.Second, remtest.Done)
	if other.Decision != journal.DecisionCircuitOpen || len(other.Actions) != 0 {
		t.Fatalf("second incident: %+v", other)
	}
	if got := h.Value("openclaw_remediator_actions_total", "action", "restart", "target", "default", "result", journal.ResultVerifyFailed); got != 3 {
		t.Errorf("verify_failed = %v", got)
	}
	if got := h.Value("openclaw_remediator_circuit_open", "target", "default"); got != 1 {
		t.Errorf("circuit closed by itself")
	}
	if err := h.Rem.Incidents().ResetCircuit("default"); err != nil || h.Value("openclaw_remediator_circuit_open", "target", "default") != 0 {
		t.Errorf("reset: %v", err)
	}
}

func TestApprovalWaitsThenActs(t *testing.T) {
	sim, target := remtest.SimTarget(t, "default")
	h := harness.New(t, remtest.LimitsForTests+`
policies:
  - name: restart_with_approval
    matchers: ['remediation="restart"']
    approval: true
targets:`+target)
	pid := sim.PID
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
	h.WaitIncident(hungID, 10*time.Second, func(inc *journal.Incident) error {
		if inc.State != journal.StatePending {
			return fmt.Errorf("state %s", inc.State)
		}
		return nil
	})
	if n := h.Value("openclaw_remediator_pending_approvals"); n != 1 {
		t.Fatalf("pending = %v", n)
	}
	if cur, _ := openclaw.DefaultProcFS.ListenerPID(sim.Port); cur != pid {
		t.Fatalf("gateway restarted before approval")
	}
	resp, err := http.Post(h.Srv.URL+"/api/v1/incidents/"+hungID+"/approve", "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	inc := h.WaitIncident(hungID, 60*time.Second, remtest.Done)
	if inc.Decision != journal.DecisionExecuted || !inc.Approved || inc.Actions[0].Result != journal.ResultSuccess {
		t.Fatalf("%+v", inc)
	}
	if cur, _ := openclaw.DefaultProcFS.ListenerPID(sim.Port); cur == pid {
		t.Fatal("not restarted")
	}
	// A second approval is a conflict, not a second restart.
	resp, _ = http.Post(h.Srv.URL+"/api/v1/incidents/"+hungID+"/approve", "", nil)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second approve: %s", resp.Status)
	}
	resp.Body.Close()
	if n := h.Value("openclaw_remediator_pending_approvals"); n != 0 {
		t.Errorf("pending = %v after approval", n)
	}
}

func TestDuplicateDeliveriesActOnce(t *testing.T) {
	_, target := remtest.SimTarget(t, "default")
	h := harness.New(t, remtest.LimitsForTests+"targets:"+target)
	body := remtest.Fixture(t, "firing_gateway_hung.json")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _ := h.Post(body); code != http.StatusOK {
				t.Errorf("webhook: %d", code)
			}
		}()
	}
	wg.Wait()
	h.WaitIncident(hungID, 60*time.Second, remtest.Done)
	h.Post(body) // a repeat after the action
	inc := h.WaitIncident(hungID, time.Second, remtest.Done)
	if len(inc.Actions) != 1 || inc.Deliveries != 9 {
		t.Fatalf("actions %d, deliveries %d", len(inc.Actions), inc.Deliveries)
	}
	if got := h.Value("openclaw_remediator_incidents_total", "decision", journal.DecisionDuplicate); got != 8 {
		t.Errorf("duplicates = %v", got)
	}
	if got := h.Value("openclaw_remediator_actions_total", "action", "restart", "target", "default", "result", journal.ResultSuccess); got != 1 {
		t.Errorf("actions = %v", got)
	}
	// The resolved delivery marks the incident and acts on nothing.
	h.Post(remtest.Fixture(t, "resolved_gateway_hung.json"))
	inc, _ = h.J.Incident(hungID)
	if inc.Status != "resolved" || inc.ResolvedAt == nil || len(inc.Actions) != 1 {
		t.Errorf("after resolve: %+v", inc)
	}
}
