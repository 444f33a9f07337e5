package openclaw

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The testdata reports are the real CLI's, 2026.9.6 (paths shortened): a
// dry run from a cache install it cannot classify, a dry run of an
// npm-global 2026.9.5 that plans the update, and doctor --lint on an
// unconfigured state (four warnings, ok false, exit 1).
func TestUpdateReportVerdicts(t *testing.T) {
	for name, tc := range map[string]struct {
		out           string
		refusal, line string // substrings; refusal "" means it goes ahead
	}{
		"real: cannot classify the installation": {out: fixture(t, "update-dry-run-skipped.json"),
			refusal: "status skipped (container-image-install); installation-inspection/installation-unclassified: Installation ownership could not be determined."},
		"real: plans the update": {out: fixture(t, "update-dry-run-plan.json"), line: "would update 2026.9.5 to 2026.9.6, mode npm, 4 actions"},
		"its own preflight refuses": {out: `{"status":"error","reason":"database-schema-preflight","mode":"npm","steps":[{"name":"validate","failureFacts":[{"check":"database-schema-preflight","code":"schema-newer","message":"state database has schema 18; target supports 17"}]}]}`,
			refusal: "status error (database-schema-preflight); database-schema-preflight/schema-newer: state database has schema 18; target supports 17"},
		"no Node runtime for the target": {out: `{"dryRun":true,"currentVersion":"2026.9.5","targetVersion":"2026.9.6","actions":[],"notes":["Would refuse update: openclaw@2026.9.6 requires Node >=24"]}`,
			refusal: "Would refuse update: openclaw@2026.9.6 requires Node >=24"},
		"unresolved target": {out: `{"dryRun":true,"currentVersion":"2026.9.5","targetVersion":null,"targetVersionReason":"no such dist-tag","actions":[]}`,
			refusal: "target version unresolved: no such dist-tag"},
		"log lines before the report": {out: "[update] {phase} inspecting\n" + `{"dryRun":true,"currentVersion":"2026.9.5","targetVersion":"2026.9.6","mode":"npm","actions":["a"],"downgradeRisk":true}`,
			line: "would update 2026.9.5 to 2026.9.6, mode npm, 1 actions, downgrade risk"},
	} {
		t.Run(name, func(t *testing.T) {
			var rep UpdateReport
			if err := DecodeReport([]byte(tc.out), &rep, UpdateReportKeys...); err != nil {
				t.Fatal(err)
			}
			got := rep.Refusal()
			switch {
			case tc.refusal == "" && got != "":
				t.Errorf("refused: %q", got)
			case tc.refusal != "" && !strings.Contains(got, tc.refusal):
				t.Errorf("refusal %q, want %q in it", got, tc.refusal)
			case tc.line != "" && !strings.Contains(rep.Summary(), tc.line):
				t.Errorf("summary %q, want %q in it", rep.Summary(), tc.line)
			}
		})
	}
}

func TestLintReportVerdicts(t *testing.T) {
	for name, tc := range map[string]struct {
		out, refusal string
	}{
		"real: warnings only go ahead": {out: fixture(t, "doctor-lint-warnings.json")},
		"an error finding refuses, with its fix": {out: `{"schemaVersion":1,"ok":false,"checksRun":5,"findings":[{"checkId":"core/doctor/gateway-config","severity":"warning","message":"w"},{"checkId":"core/doctor/state-integrity","severity":"error","message":"state database is corrupt","fixHint":"restore a backup"}]}`,
			refusal: "[error] core/doctor/state-integrity: state database is corrupt (fix: restore a backup)"},
		"doctor failed before its checks": {out: `{"schemaVersion":1,"ok":false,"checksRun":0,"findings":[],"error":{"type":"cli_error","message":"config is not valid JSON"}}`,
			refusal: "doctor failed: config is not valid JSON"},
	} {
		t.Run(name, func(t *testing.T) {
			var rep LintReport
			if err := DecodeReport([]byte(tc.out), &rep, LintReportKeys...); err != nil {
				t.Fatal(err)
			}
			got := rep.Refusal()
			if (tc.refusal == "") != (got == "") || !strings.Contains(got, tc.refusal) {
				t.Errorf("refusal %q, want %q", got, tc.refusal)
			}
		})
	}
}

func TestDecodeReportWithoutOne(t *testing.T) {
	for _, out := range []string{"", "npm ERR! code ENOTFOUND", `{"unrelated":true}`, `{"status":`} {
		var rep UpdateReport
		if err := DecodeReport([]byte(out), &rep, UpdateReportKeys...); !errors.Is(err, ErrNoReport) {
			t.Errorf("%q: %v, want ErrNoReport", out, err)
		}
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
