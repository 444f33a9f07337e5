package remediator_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// packageRig is the migrating rig whose gateways run from an installed
// package (package.dir) that the update stand-in replaces as npm does, with
// kept packages configured: a rollback to a kept version must swap it back,
// never run the rollback command.
func packageRig(t *testing.T) (u *upgradeRig, pkgs, keeps map[string]string) {
	t.Helper()
	pkgs, keeps = map[string]string{}, map[string]string{}
	u = newUpgradeRig(t, func(name string, target map[string]any) {
		pkgs[name] = filepath.Join(t.TempDir(), "lib", "node_modules", "openclaw")
		if err := writePackage(pkgs[name], fromVersion); err != nil {
			t.Fatal(err)
		}
		drv := target["driver"].(map[string]any)
		drv["env"] = append(drv["env"].([]string), envMigrates+"=1", envPackage+"="+pkgs[name])
		drv["start"] = helperArgv(t, "gateway")
		target["backup"] = map[string]any{
			"dir":     t.TempDir(),
			"command": helperArgv(t, "openclaw", "backup", "create", "--output", "{dir}", "--verify", "--json"),
			"restore": helperArgv(t, "openclaw", "backup", "restore", "{archive}", "--target", "{target}", "--json"),
		}
		keeps[name] = filepath.Join(t.TempDir(), "packages")
		target["package"] = map[string]any{"dir": pkgs[name], "keep_dir": keeps[name], "keep": 1}
	})
	for name, rig := range u.rigs {
		rig.env = append(rig.env, envMigrates+"=1", envPackage+"="+pkgs[name])
		if err := os.WriteFile(filepath.Join(rig.sim.StateDir, "schema"), []byte(fromVersion), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return u, pkgs, keeps
}

func packageVersion(t *testing.T, dir string) string {
	t.Helper()
	v, err := openclaw.PackageVersion(dir)
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}

// A guarded upgrade keeps the package it replaces, with its version and
// Node in the journal; the failed batch's rollback swaps it back and
// restores the state archive: the rollback command never runs, the gateway
// runs the old release, and the replaced package is kept in turn.
func TestUpgradeRollbackSwapsTheKeptPackageBack(t *testing.T) {
	u, pkgs, keeps := packageRig(t)
	u.prom.fire("a")
	up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}, "targets": {"a"}}).ID)
	s := up.Batches[0].Steps[0]
	if up.Batches[0].State != journal.BatchRolledBack || !strings.Contains(s.Rollback, "runs "+fromVersion) || !strings.Contains(s.Rollback, "swapped in from "+s.Package) {
		t.Fatalf("batch 1 %s: %+v", up.Batches[0].State, s)
	}
	keep := keeps["a"]
	if filepath.Dir(s.Package) != keep {
		t.Errorf("step package %q, want one kept in %s", s.Package, keep)
	}
	u.rigs["a"].waitVersion(t, fromVersion)
	if got := u.rigs["a"].updates(); !slices.Equal(got, []string{toVersion}) {
		t.Errorf("update commands run %q, want only the upgrade's %s: the rollback is a swap", got, toVersion)
	}
	if v := packageVersion(t, pkgs["a"]); v != fromVersion {
		t.Errorf("package dir holds %s after the rollback, want %s", v, fromVersion)
	}
	if b, err := os.ReadFile(filepath.Join(u.rigs["a"].sim.StateDir, "schema")); err != nil || string(b) != fromVersion {
		t.Errorf("state schema after the rollback: %q %v, want %s", b, err, fromVersion)
	}
	// The package swapped out is kept; the one swapped in left the keep dir.
	kept, _ := filepath.Glob(filepath.Join(keep, "*"))
	if len(kept) != 1 || packageVersion(t, kept[0]) != toVersion {
		t.Errorf("keep dir after the rollback: %q, want the replaced %s", kept, toVersion)
	}
	ts, err := u.h.J.Target("a")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ts.Versions, func(v journal.Version) bool { return v.Version == fromVersion })
	if i < 0 || ts.Versions[i].Package != s.Package || ts.Versions[i].Backup != s.Backup || !strings.HasPrefix(ts.Versions[i].Node, "v") {
		t.Errorf("journal versions %+v, want %s with package %s, backup %s and a node version", ts.Versions, fromVersion, s.Package, s.Backup)
	}
}

// After an upgrade that passed, the alert-driven rollback swaps the kept
// package back and restores the state archive, without the rollback command.
func TestAlertRollbackAfterUpgradeSwapsTheKeptPackageBack(t *testing.T) {
	u, pkgs, _ := packageRig(t)
	up := u.started(t, url.Values{"to": {toVersion}, "targets": {"a"}})
	if up = u.waitEnded(t, up.ID); up.State != journal.UpgradeDone {
		t.Fatalf("upgrade %s: %s", up.State, up.Reason)
	}
	u.rigs["a"].waitVersion(t, toVersion)
	kept := up.Batches[0].Steps[0].Package
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
	want := "rollback " + toVersion + " -> " + fromVersion + " by swapping back the package kept at " + kept + " with the state archived before the upgrade"
	if a.Result != journal.ResultSuccess || !strings.Contains(a.Output, want) {
		t.Fatalf("rollback %s %q, want %q\n%s", a.Result, a.Error, want, a.Output)
	}
	u.rigs["a"].waitVersion(t, fromVersion)
	if got := u.rigs["a"].updates(); !slices.Equal(got, []string{toVersion}) {
		t.Errorf("update commands run %q, want only the upgrade's", got)
	}
	if v := packageVersion(t, pkgs["a"]); v != fromVersion {
		t.Errorf("package dir holds %s, want %s", v, fromVersion)
	}
}

// A kept package that was changed since (another version in it) is not
// swapped in: the rollback reinstalls with the rollback command, and keeps
// the package it replaces first.
func TestAlertRollbackReinstallsWhenTheKeptPackageDoesNotCheck(t *testing.T) {
	u, pkgs, _ := packageRig(t)
	up := u.started(t, url.Values{"to": {toVersion}, "targets": {"a"}})
	if up = u.waitEnded(t, up.ID); up.State != journal.UpgradeDone {
		t.Fatalf("upgrade %s: %s", up.State, up.Reason)
	}
	kept := up.Batches[0].Steps[0].Package
	if err := writePackage(kept, "2026.1.1"); err != nil {
		t.Fatal(err)
	}
	alert := remtest.WithLabels(t, remtest.Fixture(t, "rollback_after_upgrade.json"), map[string]string{"gateway": "a"})
	if code, ack := u.h.Post(alert); code != http.StatusOK || ack.New != 1 {
		t.Fatalf("webhook: %d %+v", code, ack)
	}
	id := journal.ID(rollbackFP, mustTime(rollbackTime))
	u.h.WaitIncident(id, 10*time.Second, pending)
	if code, body := approve(u.h, id); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	a := u.h.WaitIncident(id, 60*time.Second, remtest.Done).Actions[0]
	if a.Result != journal.ResultSuccess || !strings.Contains(a.Output, "kept package not used: kept package "+kept+" holds 2026.1.1") ||
		!strings.Contains(a.Output, "package: the installed package "+toVersion+" is kept at") {
		t.Fatalf("rollback %s %q\n%s", a.Result, a.Error, a.Output)
	}
	u.rigs["a"].waitVersion(t, fromVersion)
	if got := u.rigs["a"].updates(); !slices.Equal(got, []string{toVersion, fromVersion}) {
		t.Errorf("update commands run %q, want the upgrade's and the rollback's", got)
	}
	if v := packageVersion(t, pkgs["a"]); v != fromVersion {
		t.Errorf("package dir holds %s, want %s", v, fromVersion)
	}
}
