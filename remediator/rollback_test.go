package remediator_test

import (
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
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

const (
	goodVersion  = "2026.9.4"
	badVersion   = "2026.9.6"
	rollbackFP   = "5f60718293a4b5c6"
	rollbackTime = "2026-11-22T08:00:00Z"
)

var rollbackID = journal.ID(rollbackFP, mustTime(rollbackTime))

// rollbackRig is a simulator with a target whose rollback command is the
// `openclaw update` stand-in of helper_test.go.
type rollbackRig struct {
	sim       *simtest.Sim
	target    map[string]any
	updateLog string
	env       []string
}

func newRollbackRig(t *testing.T, version string) *rollbackRig {
	t.Helper()
	sim := simtest.Start(t, simtest.Options{Version: version})
	t.Cleanup(func() { simtest.KillListener(sim.Port) })
	_, ctl, _ := strings.Cut(sim.ControlURL, "http://")
	argv := []string{simtest.Binary(t), "--port", strconv.Itoa(sim.Port), "--control.listen-address", ctl,
		"--state-dir", sim.StateDir, "--log-dir", sim.LogDir, "--token", ""}
	simArgv, _ := json.Marshal(argv)
	rig := &rollbackRig{sim: sim, updateLog: filepath.Join(t.TempDir(), "updates.log")}
	rig.env = []string{
		envSimArgv + "=" + string(simArgv),
		envSimPort + "=" + strconv.Itoa(sim.Port),
		envSimState + "=" + sim.StateDir,
		envSimOutput + "=" + filepath.Join(t.TempDir(), "gateway.out"),
		envUpdateLog + "=" + rig.updateLog,
	}
	rig.target = map[string]any{
		"name":         "default",
		"url":          sim.URL,
		"state_dir":    sim.StateDir,
		"log_dirs":     []string{sim.LogDir},
		"stop_timeout": "5s",
		"verify":       map[string]string{"timeout": "20s", "interval": "100ms"},
		"rollback": map[string]any{
			"command": helperArgv(t, "openclaw", "update", "--tag", "{version}", "--yes"),
		},
		"driver": map[string]any{
			"kind":   "process",
			"start":  append(slices.Clone(argv), "--gateway-version", version),
			"env":    rig.env,
			"output": filepath.Join(t.TempDir(), "gateway.out"),
		},
	}
	return rig
}

// yaml is the target as a YAML flow mapping (JSON is YAML).
func (rig *rollbackRig) yaml(t *testing.T) string {
	b, err := json.Marshal(rig.target)
	if err != nil {
		t.Fatal(err)
	}
	return "\n  - " + string(b) + "\n"
}

// update runs the stand-in by hand, as an operator upgrading the gateway.
func (rig *rollbackRig) update(t *testing.T, version string) {
	t.Helper()
	argv := helperArgv(t, "openclaw", "update", "--tag", version, "--yes")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), rig.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("update to %s: %v\n%s", version, err, out)
	}
}

// version is what the gateway reports now.
func (rig *rollbackRig) version() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := openclaw.VersionFromControlUI(ctx, http.DefaultClient, rig.sim.URL)
	return v.Version, err
}

func (rig *rollbackRig) waitVersion(t *testing.T, want string) {
	t.Helper()
	simtest.Eventually(t, 30*time.Second, func() error {
		v, err := rig.version()
		if err != nil || v != want {
			return fmt.Errorf("gateway reports %q (%v), want %q", v, err, want)
		}
		return simtest.Healthy(rig.sim.URL)
	})
}

func (rig *rollbackRig) updates() []string {
	b, _ := os.ReadFile(rig.updateLog)
	return strings.Fields(string(b))
}

// Rollback end to end: a restart verifies v1 healthy and the journal
// records it; the gateway is upgraded to v2; the rollback incident, held for
// approval by the default policy, runs the configured `openclaw update`
// argv with the recorded v1 as a real child process, which restarts the
// gateway; verification passes and the gateway reports v1 again.
func TestRollbackToTheVersionVerifiedHealthy(t *testing.T) {
	rig := newRollbackRig(t, goodVersion)
	h := harness.New(t, `
limits: {cooldown: 1ms, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
targets:`+rig.yaml(t))

	h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
	if inc := h.WaitIncident(hungID, 60*time.Second, remtest.Done); inc.Actions[0].Result != journal.ResultSuccess {
		t.Fatalf("restart: %+v", inc.Actions)
	}
	ts, _ := h.J.Target("default")
	if len(ts.Versions) != 1 || ts.Versions[0].Version != goodVersion {
		t.Fatalf("versions on record after the verified restart: %+v", ts.Versions)
	}

	rig.update(t, badVersion)
	rig.waitVersion(t, badVersion)

	// A label that names a version is only data: the version comes from
	// the journal.
	body := remtest.WithLabels(t, remtest.Fixture(t, "rollback_after_upgrade.json"), map[string]string{"version": "2026.8.1; rm -rf /"})
	if code, ack := h.Post(body); code != http.StatusOK || ack.New != 1 {
		t.Fatalf("webhook: %d %+v", code, ack)
	}
	h.WaitIncident(rollbackID, 10*time.Second, pending)
	if got := rig.updates(); !slices.Equal(got, []string{badVersion}) {
		t.Fatalf("rollback ran before approval: updates %q", got)
	}
	if code, body := approve(h, rollbackID); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	inc := h.WaitIncident(rollbackID, 60*time.Second, remtest.Done)
	if inc.Decision != journal.DecisionExecuted || len(inc.Actions) != 1 {
		t.Fatalf("rollback incident %+v", inc)
	}
	a := inc.Actions[0]
	if a.Result != journal.ResultSuccess || !strings.Contains(a.Output, "rollback "+badVersion+" -> "+goodVersion) ||
		!strings.Contains(a.Output, "openclaw updated to "+goodVersion) || !strings.Contains(a.Verification, "healthy after") {
		t.Fatalf("rollback action %s %q\noutput: %s\nverification: %s", a.Result, a.Error, a.Output, a.Verification)
	}
	t.Logf("rollback output:\n%s\nverification: %s", a.Output, a.Verification)
	rig.waitVersion(t, goodVersion)
	if got := rig.updates(); !slices.Equal(got, []string{badVersion, goodVersion}) {
		t.Errorf("updates %q, want the upgrade then the rollback to the recorded version", got)
	}
	ts, _ = h.J.Target("default")
	if n := len(ts.Versions); n == 0 || ts.Versions[n-1].Version != goodVersion {
		t.Errorf("versions on record after the rollback: %+v", ts.Versions)
	}
	if got := h.Value("openclaw_remediator_actions_total", "action", "rollback", "target", "default", "result", journal.ResultSuccess); got != 1 {
		t.Errorf("actions_total{rollback,success} = %v", got)
	}
}

// Without a usable verified-healthy version the rollback is refused: the
// configured command never runs, the gateway is left alone, nothing is
// retried and the attempt is given back.
func TestRollbackRefusedWithoutAVerifiedVersion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recorded []string
	}{
		{"nothing on record", nil},
		{"only the running version", []string{goodVersion}},
		{"hostile versions in the journal file", []string{"2026.9.1; rm -rf /", "../../../bin/sh", "2026.9.1\n--force", "$(id)", "latest"}},
		// Before 2026.9.3 by the built-in advisory; 2026.9.5 by the configuration.
		{"only known-bad releases", []string{"2026.9.2", "2026.9.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRollbackRig(t, goodVersion)
			h := harness.New(t, `
limits: {cooldown: 1ms, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
known_bad_releases: [{version: 2026.9.5, reason: bad answers}]
policies:
  - name: rollback_now
    matchers: ['remediation="rollback"']
targets:`+rig.yaml(t))
			recordVersions(t, h, tc.recorded...)
			pid := rig.sim.PID
			h.Post(remtest.Fixture(t, "rollback_after_upgrade.json"))
			inc := h.WaitIncident(rollbackID, 30*time.Second, remtest.Done)
			if len(inc.Actions) != 1 {
				t.Fatalf("%d attempts, want 1: %+v", len(inc.Actions), inc.Actions)
			}
			a := inc.Actions[0]
			if a.Result != journal.ResultRefused || !strings.Contains(a.Error, "no other version that matches the version pattern was verified healthy") ||
				!strings.HasPrefix(inc.Reason, "refused: ") {
				t.Fatalf("result %s, error %q, reason %q", a.Result, a.Error, inc.Reason)
			}
			if !strings.Contains(a.Output, `running "`+goodVersion+`"`) {
				t.Errorf("output does not say what runs and what is on record: %q", a.Output)
			}
			if tc.name == "only known-bad releases" && (!strings.Contains(a.Output, "releases before 2026.9.3 are known bad (advisory: ") ||
				!strings.Contains(a.Output, "2026.9.5 is a known-bad release (bad answers)")) {
				t.Errorf("output does not say which known-bad releases were passed over: %q", a.Output)
			}
			if got := rig.updates(); len(got) != 0 {
				t.Fatalf("the rollback command ran: %q", got)
			}
			if cur, _ := openclaw.DefaultProcFS.ListenerPID(rig.sim.Port); cur != pid {
				t.Errorf("the gateway was touched: pid %d, was %d", cur, pid)
			}
			ts, _ := h.J.Target("default")
			if ts.CircuitOpen || len(ts.Attempts) != 0 || ts.Failures != 0 || !ts.LastEnd.IsZero() {
				t.Errorf("a refusal counted against the limits: %+v", ts)
			}
			if got := h.Value("openclaw_remediator_actions_total", "action", "rollback", "target", "default", "result", journal.ResultRefused); got != 1 {
				t.Errorf("actions_total{rollback,refused} = %v", got)
			}
			if got := h.Value("openclaw_remediator_actions_total", "action", "rollback", "target", "default", "result", journal.ResultFailure); got != 0 {
				t.Errorf("a refusal counted as a failed action: actions_total{rollback,failure} = %v", got)
			}
		})
	}
}

// A rollback command that returns without restarting the gateway leaves the
// bad version answering: healthy, but not a successful rollback.
func TestRollbackThatLeavesTheBadVersionFailsVerification(t *testing.T) {
	rig := newRollbackRig(t, badVersion)
	rig.target["rollback"] = map[string]any{"command": []string{"/bin/echo", "installed", "{version}"}}
	h := harness.New(t, `
limits: {cooldown: 1ms, max_attempts: 2, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
policies:
  - name: rollback_now
    matchers: ['remediation="rollback"']
targets:`+rig.yaml(t))
	recordVersions(t, h, goodVersion)
	h.Post(remtest.Fixture(t, "rollback_after_upgrade.json"))
	inc := h.WaitIncident(rollbackID, 30*time.Second, remtest.Done)
	if len(inc.Actions) != 2 || !strings.HasPrefix(inc.Reason, "escalated: ") {
		t.Fatalf("incident %+v", inc)
	}
	for _, a := range inc.Actions {
		if a.Result != journal.ResultVerifyFailed || !strings.Contains(a.Error, "the gateway runs "+badVersion+", not "+goodVersion) ||
			!strings.Contains(a.Output, "installed "+goodVersion) {
			t.Errorf("attempt %d: %s %q\n%s", a.Attempt, a.Result, a.Error, a.Output)
		}
	}
	ts, _ := h.J.Target("default")
	if !ts.CircuitOpen || slices.ContainsFunc(ts.Versions, func(v journal.Version) bool { return v.Version == badVersion }) {
		t.Errorf("target after the failed rollback: %+v", ts)
	}
}

// recordVersions writes versions into the journal as verified healthy on
// target "default", as successful restarts would have.
func recordVersions(t *testing.T, h *harness.Harness, versions ...string) {
	t.Helper()
	err := h.J.Update(func(tx journal.Tx) error {
		ts, err := tx.Target("default")
		if err != nil {
			return err
		}
		for _, v := range versions {
			ts.RecordVersion(v, t0)
		}
		return tx.PutTarget(ts)
	})
	if err != nil {
		t.Fatal(err)
	}
}
