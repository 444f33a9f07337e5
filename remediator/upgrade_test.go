package remediator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/upgrade"
)

const (
	fromVersion = "2026.9.5"
	toVersion   = "2026.9.6"
)

// fakePrometheus answers instant queries: a firing alert for the targets
// in firing, nothing else.
type fakePrometheus struct {
	mu     sync.Mutex
	firing map[string]bool
	asked  int
	// hold, when set, keeps every query waiting until it is closed;
	// observing gets a signal as each query arrives.
	hold      chan struct{}
	observing chan struct{}
}

// fire makes an alert of target firing.
func (f *fakePrometheus) fire(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.firing[target] = true
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("query")
	if f.hold != nil {
		select {
		case f.observing <- struct{}{}:
		default:
		}
		<-f.hold
	}
	f.mu.Lock()
	f.asked++
	var result []any
	for target := range f.firing {
		if strings.HasPrefix(q, "ALERTS{") && strings.Contains(q, `gateway="`+target+`"`) {
			result = append(result, map[string]any{
				"metric": map[string]string{"alertname": "OpenClawReasoningDegradedAfterUpgrade", "gateway": target},
				"value":  []any{1700000000.0, "1"},
			})
		}
	}
	f.mu.Unlock()
	if result == nil {
		result = []any{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}})
}

// upgradeRig is two simulated gateways, a and b, on fromVersion, whose
// update and rollback commands are the `openclaw update` stand-in.
type upgradeRig struct {
	h      *harness.Harness
	rigs   map[string]*rollbackRig
	prom   *fakePrometheus
	notify *notifySink
}

// newUpgradeRig builds the rig; edit may change a target before it is
// configured.
func newUpgradeRig(t *testing.T, edit ...func(name string, target map[string]any)) *upgradeRig {
	t.Helper()
	u := &upgradeRig{rigs: map[string]*rollbackRig{}, prom: &fakePrometheus{firing: map[string]bool{}}, notify: newNotifySink(t, http.StatusOK)}
	prom := httptest.NewServer(u.prom)
	t.Cleanup(prom.Close)
	targets := ""
	for _, name := range []string{"a", "b"} {
		rig := newRollbackRig(t, fromVersion)
		rig.target["name"] = name
		rig.target["update"] = map[string]any{"command": helperArgv(t, "openclaw", "update", "--tag", "{version}", "--yes")}
		for _, e := range edit {
			e(name, rig.target)
		}
		u.rigs[name] = rig
		targets += rig.yaml(t)
	}
	u.h = harness.NewWith(t, fmt.Sprintf(`
upgrade: {observe: 300ms, observe_interval: 50ms, settle: 10ms}
notify: {url: %q, timeout: 2s}
targets:`, u.notify.srv.URL)+targets, harness.Options{Prometheus: prom.URL})
	return u
}

// start posts an upgrade through the API, as the CLI does.
func (u *upgradeRig) start(t *testing.T, q url.Values) (int, *journal.Upgrade, string) {
	t.Helper()
	resp, err := http.Post(u.h.Srv.URL+"/api/v1/upgrades?"+q.Encode(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var up journal.Upgrade
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(body, &up); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return resp.StatusCode, &up, string(body)
}

// started starts an upgrade that must be accepted.
func (u *upgradeRig) started(t *testing.T, q url.Values) *journal.Upgrade {
	t.Helper()
	code, up, body := u.start(t, q)
	if code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	return up
}

func (u *upgradeRig) waitEnded(t *testing.T, id string) *journal.Upgrade {
	t.Helper()
	var up *journal.Upgrade
	simtest.Eventually(t, 120*time.Second, func() error {
		var err error
		if up, err = u.h.J.Upgrade(id); err != nil {
			return err
		}
		if up.Active() {
			return fmt.Errorf("upgrade %s still %s", id, up.State)
		}
		return nil
	})
	return up
}

// A fleet of two upgraded one at a time, each batch verified on the new
// version and observed; the new version is recorded as verified healthy.
func TestUpgradeTwoTargetsInBatchesOfOne(t *testing.T) {
	u := newUpgradeRig(t)
	u.prom.hold, u.prom.observing = make(chan struct{}), make(chan struct{}, 1)
	up := u.started(t, url.Values{"to": {toVersion}, "batch_size": {"1"}})
	// One upgrade at a time.
	if code, _, body := u.start(t, url.Values{"to": {toVersion}}); code != http.StatusConflict || !strings.Contains(body, up.ID) {
		t.Errorf("second upgrade while one runs: %d %s", code, body)
	}
	// While batch 1 is observed, an alert-driven restart of its gateway
	// is refused with a reason; the upgrade and the remediator never act
	// on one gateway at once.
	select {
	case <-u.prom.observing:
	case <-time.After(120 * time.Second):
		t.Fatal("batch 1 never reached its observation")
	}
	u.h.Post(remtest.WithLabels(t, remtest.Fixture(t, "firing_gateway_hung.json"), map[string]string{"gateway": "a"}))
	if inc := u.h.WaitIncident(hungID, 10*time.Second, remtest.Done); inc.Decision != journal.DecisionUpgrading || len(inc.Actions) != 0 {
		t.Errorf("restart during the upgrade: %+v", inc)
	}
	close(u.prom.hold)
	up = u.waitEnded(t, up.ID)
	if up.State != journal.UpgradeDone || len(up.Batches) != 2 {
		t.Fatalf("upgrade %+v", up)
	}
	for i, b := range up.Batches {
		s := b.Steps[0]
		if b.State != journal.BatchDone || len(b.Steps) != 1 || s.From != fromVersion || !s.Updated ||
			!strings.Contains(s.Verification, "runs "+toVersion) || !strings.Contains(b.Observation, "no firing alert") {
			t.Errorf("batch %d: %+v", i+1, b)
		}
	}
	for name, rig := range u.rigs {
		rig.waitVersion(t, toVersion)
		if got := rig.updates(); !slices.Equal(got, []string{toVersion}) {
			t.Errorf("%s: updates %q, want one update to %s", name, got, toVersion)
		}
		ts, _ := u.h.J.Target(name)
		if n := len(ts.Versions); n == 0 || ts.Versions[n-1].Version != toVersion {
			t.Errorf("%s: versions on record %+v", name, ts.Versions)
		}
	}
	if got := u.h.Value("openclaw_remediator_upgrades_total", "result", journal.UpgradeDone); got != 1 {
		t.Errorf("upgrades_total{done} = %v", got)
	}
	if u.notify.calls() != 0 {
		t.Errorf("a successful upgrade escalated: %v", u.notify.bodies)
	}
	// A second upgrade to the same version touches nothing.
	up = u.started(t, url.Values{"to": {toVersion}})
	if up = u.waitEnded(t, up.ID); up.State != journal.UpgradeDone || !up.Batches[0].Steps[0].Skipped {
		t.Errorf("second upgrade %+v", up)
	}
	if got := u.rigs["a"].updates(); len(got) != 1 {
		t.Errorf("a: updates %q after an upgrade to the version it runs", got)
	}
}

// The first batch's observation sees a mixin alert firing: the batch is
// rolled back to its recorded version and verified there, the second
// batch is never touched, and the failure is escalated.
func TestUpgradeObservationFailsRollsBackFirstBatch(t *testing.T) {
	u := newUpgradeRig(t)
	u.prom.fire("a")
	up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}, "targets": {"a,b"}, "batch_size": {"1"}}).ID)
	if up.State != journal.UpgradeFailed || !strings.Contains(up.Reason, "batch 1") || !strings.Contains(up.Reason, "OpenClawReasoningDegradedAfterUpgrade") {
		t.Fatalf("upgrade %s: %s", up.State, up.Reason)
	}
	b1, b2 := up.Batches[0], up.Batches[1]
	if b1.State != journal.BatchRolledBack || !strings.Contains(b1.Steps[0].Rollback, "rolled back to "+fromVersion) ||
		!strings.Contains(b1.Steps[0].Rollback, "runs "+fromVersion) {
		t.Errorf("batch 1: %+v", b1)
	}
	if b2.State != journal.BatchPending || b2.Steps[0].Updated || b2.Steps[0].From != "" {
		t.Errorf("batch 2 was touched: %+v", b2)
	}
	u.rigs["a"].waitVersion(t, fromVersion)
	if got := u.rigs["a"].updates(); !slices.Equal(got, []string{toVersion, fromVersion}) {
		t.Errorf("a: updates %q, want the upgrade, then the rollback", got)
	}
	if got := u.rigs["b"].updates(); len(got) != 0 {
		t.Errorf("b: updates %q, want none", got)
	}
	u.rigs["b"].waitVersion(t, fromVersion)
	simtest.Eventually(t, 10*time.Second, func() error {
		u.notify.mu.Lock()
		defer u.notify.mu.Unlock()
		for _, m := range u.notify.bodies {
			if m["event"] == "upgrade_failed" && m["upgrade"] == up.ID {
				return nil
			}
		}
		return fmt.Errorf("no upgrade_failed escalation in %v", u.notify.bodies)
	})
	if got := u.h.Value("openclaw_remediator_upgrades_total", "result", journal.UpgradeFailed); got != 1 {
		t.Errorf("upgrades_total{failed} = %v", got)
	}
	if got := u.h.Value("openclaw_remediator_upgrade_batches_total", "result", journal.BatchRolledBack); got != 1 {
		t.Errorf("upgrade_batches_total{rolled_back} = %v", got)
	}
}

// An update command that fails rolls its batch back too: the gateway it
// may have left half updated goes back to the journaled version.
func TestUpgradeUpdateFailureRollsBack(t *testing.T) {
	u := newUpgradeRig(t, func(name string, target map[string]any) {
		if name == "a" {
			target["update"] = map[string]any{"command": []string{"/bin/false", "{version}"}}
		}
	})
	up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}}).ID)
	s := up.Batches[0].Steps[0]
	if up.State != journal.UpgradeFailed || up.Batches[0].State != journal.BatchRolledBack || s.Error == "" ||
		!strings.Contains(s.Rollback, "runs "+fromVersion) || up.Batches[1].State != journal.BatchPending {
		t.Fatalf("upgrade %+v", up)
	}
	if got := u.rigs["a"].updates(); !slices.Equal(got, []string{fromVersion}) {
		t.Errorf("a: updates %q, want only the rollback", got)
	}
	u.prom.mu.Lock()
	defer u.prom.mu.Unlock()
	if u.prom.asked != 0 {
		t.Errorf("a batch whose update failed was observed (%d queries)", u.prom.asked)
	}
}

// A dry run prints the plan, with each target's version read from its
// gateway and its argv, and changes nothing; hostile versions are refused
// before anything runs.
func TestUpgradeDryRunAndHostileVersions(t *testing.T) {
	u := newUpgradeRig(t)
	code, up, body := u.start(t, url.Values{"to": {toVersion}, "batch_size": {"2"}, "dry_run": {"true"}})
	if code != http.StatusOK || up.State != upgrade.StateDryRun || len(up.Batches) != 1 || len(up.Batches[0].Steps) != 2 {
		t.Fatalf("dry run: %d %s", code, body)
	}
	for _, s := range up.Batches[0].Steps {
		if s.From != fromVersion || s.Argv[len(s.Argv)-2] != toVersion || s.Argv[len(s.Argv)-1] != "--yes" {
			t.Errorf("plan step %+v", s)
		}
	}
	for _, v := range []string{"2026.9.6; rm -rf /", "--help", "$(id)", "2026.9.6\n", strings.Repeat("2", 200), ""} {
		code, _, body := u.start(t, url.Values{"to": {v}})
		if code != http.StatusBadRequest || !strings.Contains(body, "version refused") {
			t.Errorf("version %q: %d %s", v, code, body)
		}
	}
	if code, _, body := u.start(t, url.Values{"to": {toVersion}, "targets": {"a,nosuch"}}); code != http.StatusBadRequest {
		t.Errorf("unknown target: %d %s", code, body)
	}
	// A release with a published advisory (DefaultKnownBad): the plan
	// says refused.
	if code, up, body := u.start(t, url.Values{"to": {"2026.9.2"}, "dry_run": {"true"}}); code != http.StatusOK || up.State != journal.UpgradeRefused || up.ID != "" {
		t.Errorf("known-bad release, dry run: %d %s", code, body)
	}
	ups, err := u.h.J.Upgrades()
	if err != nil || len(ups) != 0 {
		t.Errorf("journaled upgrades %v %v", ups, err)
	}
	for name, rig := range u.rigs {
		if got := rig.updates(); len(got) != 0 {
			t.Errorf("%s: updates %q", name, got)
		}
	}
}

// A restart mid-upgrade stops it: the batch it was in is marked
// interrupted, nothing runs again, and a finished batch stays finished.
func TestUpgradeInterruptedByRestartIsNotResumed(t *testing.T) {
	sink := newNotifySink(t, http.StatusOK)
	h := harness.New(t, fmt.Sprintf("notify: {url: %q}\ntargets:", sink.srv.URL)+remtest.CommandTarget(t, "a")+remtest.CommandTarget(t, "b"))
	now := time.Now()
	up := &journal.Upgrade{ID: "20261201T000000Z-00000000", To: toVersion, BatchSize: 1, State: journal.UpgradeRunning, StartedAt: now,
		Batches: []journal.UpgradeBatch{
			{State: journal.BatchDone, Steps: []journal.UpgradeStep{{Target: "a", From: fromVersion, Updated: true}}},
			{State: journal.BatchUpdating, Steps: []journal.UpgradeStep{{Target: "b", From: fromVersion, Updated: true}}},
		}}
	if err := h.J.PutUpgrade(up); err != nil {
		t.Fatal(err)
	}
	h.Restart()
	got, err := h.J.Upgrade(up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != journal.UpgradeInterrupted || got.Batches[0].State != journal.BatchDone ||
		got.Batches[1].State != journal.BatchInterrupted || !strings.Contains(got.Reason, "batch 2") || !strings.Contains(got.Reason, "b@"+fromVersion) {
		t.Fatalf("after restart: %+v", got)
	}
	// An interrupted upgrade holds its target no more.
	h.Post(remtest.WithLabels(t, remtest.Fixture(t, "firing_gateway_hung.json"), map[string]string{"gateway": "b"}))
	h.WaitIncident(hungID, 10*time.Second, func(inc *journal.Incident) error {
		if inc.Decision != journal.DecisionExecuted {
			return fmt.Errorf("an interrupted upgrade still holds its target: %+v", inc)
		}
		return nil
	})
	simtest.Eventually(t, 10*time.Second, func() error {
		if sink.calls() != 1 {
			return fmt.Errorf("%d escalations, want 1", sink.calls())
		}
		return nil
	})
	if e := sink.bodies[0]; e["event"] != "upgrade_interrupted" || e["upgrade"] != up.ID {
		t.Errorf("escalation %v", e)
	}
	// Restarting again finds nothing to recover.
	h.Restart()
	if again, _ := h.J.Upgrade(up.ID); !again.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("the interrupted upgrade was written again: %+v", again)
	}
}

// migratingRig is the upgrade rig with gateways that migrate their state
// like the real one (the stand-in refuses to install a version older than
// the state's schema) and state backups configured.
func migratingRig(t *testing.T, withBackups bool) (*upgradeRig, map[string]string) {
	t.Helper()
	backups := map[string]string{}
	u := newUpgradeRig(t, func(name string, target map[string]any) {
		drv := target["driver"].(map[string]any)
		drv["env"] = append(drv["env"].([]string), envMigrates+"=1")
		if !withBackups {
			return
		}
		backups[name] = t.TempDir()
		target["backup"] = map[string]any{
			"dir":     backups[name],
			"command": helperArgv(t, "openclaw", "backup", "create", "--output", "{dir}", "--verify", "--json"),
			"restore": helperArgv(t, "openclaw", "backup", "restore", "{archive}", "--target", "{target}", "--json"),
		}
	})
	for _, rig := range u.rigs {
		rig.env = append(rig.env, envMigrates+"=1")
		if err := os.WriteFile(filepath.Join(rig.sim.StateDir, "schema"), []byte(fromVersion), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return u, backups
}

// A batch whose observation fails is rolled back across the migration its
// upgrade made: the state archived before the update is restored (the
// migrated one kept aside), then the old version installs and verifies.
// Without the archive the stand-in, like the real updater, refuses.
func TestUpgradeRollbackRestoresTheStateBackup(t *testing.T) {
	u, backups := migratingRig(t, true)
	u.prom.fire("a")
	up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}, "targets": {"a,b"}, "batch_size": {"1"}}).ID)
	s := up.Batches[0].Steps[0]
	if up.Batches[0].State != journal.BatchRolledBack || !strings.Contains(s.Rollback, "runs "+fromVersion) {
		t.Fatalf("batch 1 %s: %+v", up.Batches[0].State, s)
	}
	if filepath.Dir(s.Backup) != backups["a"] {
		t.Errorf("step backup %q, want an archive in %s", s.Backup, backups["a"])
	}
	state := u.rigs["a"].sim.StateDir
	if b, err := os.ReadFile(filepath.Join(state, "schema")); err != nil || string(b) != fromVersion {
		t.Errorf("state schema after the rollback: %q %v, want %s", b, err, fromVersion)
	}
	aside, _ := filepath.Glob(state + ".before-rollback-*")
	if len(aside) != 1 {
		t.Fatalf("migrated state kept aside: %q", aside)
	}
	if b, err := os.ReadFile(filepath.Join(aside[0], "schema")); err != nil || string(b) != toVersion {
		t.Errorf("state kept aside: schema %q %v, want the migrated %s", b, err, toVersion)
	}
	u.rigs["a"].waitVersion(t, fromVersion)
	if got := u.rigs["b"].updates(); len(got) != 0 {
		t.Errorf("b: updates %q, want none", got)
	}
	ts, err := u.h.J.Target("a")
	if err != nil {
		t.Fatal(err)
	}
	if got := ts.Backups(); !slices.Equal(got, []string{s.Backup}) {
		t.Errorf("journal names backups %q, want [%s]", got, s.Backup)
	}
}

// The same failed observation without state backups: the stand-in refuses
// the downgrade, as the real updater does, and the batch ends
// rollback_failed, the gateway still serving the new version.
func TestUpgradeRollbackWithoutBackupIsRefusedAcrossAMigration(t *testing.T) {
	u, _ := migratingRig(t, false)
	u.prom.fire("a")
	up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}, "targets": {"a"}}).ID)
	if st := up.Batches[0].State; st != journal.BatchRollbackFailed || !strings.Contains(up.Batches[0].Steps[0].Rollback, "Update refused") {
		t.Fatalf("batch 1 %s: %+v", st, up.Batches[0].Steps[0])
	}
	u.rigs["a"].waitVersion(t, toVersion)
}

// After a guarded upgrade that passed its observation, an alert-driven
// rollback of a migrated gateway restores the state archived before the
// upgrade, then installs and verifies the version it ran.
func TestAlertRollbackAfterUpgradeRestoresTheStateBackup(t *testing.T) {
	u, _ := migratingRig(t, true)
	up := u.started(t, url.Values{"to": {toVersion}, "targets": {"a"}})
	if up = u.waitEnded(t, up.ID); up.State != journal.UpgradeDone {
		t.Fatalf("upgrade %s: %s", up.State, up.Reason)
	}
	u.rigs["a"].waitVersion(t, toVersion)
	alert := remtest.WithLabels(t, remtest.Fixture(t, "rollback_after_upgrade.json"), map[string]string{"gateway": "a"})
	if code, ack := u.h.Post(alert); code != http.StatusOK || ack.New != 1 {
		t.Fatalf("webhook: %d %+v", code, ack)
	}
	id := journal.ID(rollbackFP, mustTime(rollbackTime))
	u.h.WaitIncident(id, 10*time.Second, pending)
	if code, body := approve(u.h, id); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	inc := u.h.WaitIncident(id, 60*time.Second, remtest.Done)
	a := inc.Actions[0]
	if a.Result != journal.ResultSuccess || !strings.Contains(a.Output, "rollback "+toVersion+" -> "+fromVersion+" with the state archived before the upgrade") ||
		!strings.Contains(a.Output, "kept at") {
		t.Fatalf("rollback %s %q\n%s", a.Result, a.Error, a.Output)
	}
	u.rigs["a"].waitVersion(t, fromVersion)
	if b, err := os.ReadFile(filepath.Join(u.rigs["a"].sim.StateDir, "schema")); err != nil || string(b) != fromVersion {
		t.Errorf("state schema after the rollback: %q %v", b, err)
	}
}
