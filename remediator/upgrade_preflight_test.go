package remediator_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// openclawReport is one of the real CLI's reports in internal/openclaw's
// testdata.
func openclawReport(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "internal", "openclaw", "testdata", name))
	return p
}

// withPreflight gives every target of an upgrade rig the preflights that
// print the reports named (the stand-in exits with code), and a status.
func withPreflight(t *testing.T, dryRun, doctor, doctorCode string) func(string, map[string]any) {
	return func(_ string, target map[string]any) {
		update := target["update"].(map[string]any)
		update["preflight"] = map[string]any{
			"dry_run": append(helperArgv(t, "report", "0", openclawReport(dryRun)), "{version}"),
			"doctor":  helperArgv(t, "report", doctorCode, openclawReport(doctor)),
		}
		update["status"] = helperArgv(t, "report", "0", openclawReport("update-dry-run-plan.json"))
	}
}

// Preflights that go ahead (a dry run that plans; doctor's warnings, exit
// 1 as the real one) are journaled per target, and the upgrade runs; the
// updater's status is journaled after each verified update.
func TestUpgradePreflightsGoAhead(t *testing.T) {
	u := newUpgradeRig(t, withPreflight(t, "update-dry-run-plan.json", "doctor-lint-warnings.json", "1"))
	up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}}).ID)
	if up.State != journal.UpgradeDone {
		t.Fatalf("upgrade %+v", up)
	}
	for _, b := range up.Batches {
		s := b.Steps[0]
		if !strings.Contains(s.Preflight, "dry run: goes ahead (would update 2026.9.5 to 2026.9.6, mode npm, 4 actions)") ||
			!strings.Contains(s.Preflight, "doctor: goes ahead (4 findings below error") || !strings.Contains(s.Status, `"runId"`) {
			t.Errorf("%s: preflight %q, status %q", s.Target, s.Preflight, s.Status)
		}
	}
}

// A preflight that says no ends the upgrade refused, in OpenClaw's own
// words, before any target is touched; so does a preflight with no report
// to read.
func TestUpgradePreflightRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(string, map[string]any)
		want string
	}{
		"the real dry run that cannot classify the installation": {
			edit: withPreflight(t, "update-dry-run-skipped.json", "doctor-lint-warnings.json", "1"),
			want: "dry run: status skipped (container-image-install); installation-inspection/installation-unclassified: Installation ownership could not be determined.",
		},
		"a dry run that prints no report": {
			edit: func(name string, target map[string]any) {
				withPreflight(t, "update-dry-run-plan.json", "doctor-lint-warnings.json", "0")(name, target)
				target["update"].(map[string]any)["preflight"].(map[string]any)["dry_run"] = []string{"/bin/false", "{version}"}
			},
			want: "dry run: /bin/false: exit status 1\nno JSON report in the output",
		},
	} {
		t.Run(name, func(t *testing.T) {
			u := newUpgradeRig(t, tc.edit)
			up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}}).ID)
			if up.State != journal.UpgradeRefused || !strings.Contains(up.Reason, "a: "+tc.want) || !strings.Contains(up.Reason, "b: ") || up.EndedAt == nil {
				t.Fatalf("upgrade %s: %q", up.State, up.Reason)
			}
			for name, rig := range u.rigs {
				if got := rig.updates(); len(got) != 0 {
					t.Errorf("%s: updates %q after a refusal", name, got)
				}
			}
			if b := up.Batches[0]; b.State != journal.BatchPending || b.StartedAt != nil {
				t.Errorf("batch 1 %+v after a refusal", b)
			}
			if n := u.h.Value("openclaw_remediator_upgrades_total", "result", journal.UpgradeRefused); n != 1 {
				t.Errorf("refused upgrades counted %v", n)
			}
		})
	}
}

// A known-bad release is refused at once, and journaled: the operator
// asked and was told no.
func TestUpgradeKnownBadIsRefused(t *testing.T) {
	u := newUpgradeRig(t)
	code, up, body := u.start(t, url.Values{"to": {"2026.9.2"}})
	if code != http.StatusOK || up.State != journal.UpgradeRefused || !strings.Contains(up.Reason, "known-bad release: releases before 2026.9.3 are known bad (advisory: ") {
		t.Fatalf("known-bad release: %d %s", code, body)
	}
	got, err := u.h.J.Upgrade(up.ID)
	if err != nil || got.State != journal.UpgradeRefused {
		t.Errorf("journaled %+v %v", got, err)
	}
	// The next upgrade is not held up by the refused one.
	if up := u.waitEnded(t, u.started(t, url.Values{"to": {toVersion}}).ID); up.State != journal.UpgradeDone {
		t.Errorf("upgrade after a refusal: %+v", up)
	}
}
