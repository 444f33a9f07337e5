package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// The upgrade subcommand goes through the API: a dry run prints the plan
// with the argv per target and changes nothing; a hostile version and an
// upgrade without Prometheus are refused with the remediator's reason.
func TestUpgradeCLI(t *testing.T) {
	_, cfg, tokenFile, _ := setup(t)
	p := startRemediator(t, cfg, tokenFile, simtest.FreePort(t))
	cli := func(args ...string) (string, error) {
		args = append([]string{"upgrade", "--url", p.url, "--bearer-token-file", tokenFile}, args...)
		out, err := exec.Command(testbin.Command(t, "openclaw-remediator"), args...).CombinedOutput()
		return string(out), err
	}
	out, err := cli("--to", "2026.9.6", "--dry-run")
	if err != nil || !strings.Contains(out, "upgrade (plan) to 2026.9.6: dry_run") ||
		!strings.Contains(out, `"openclaw" "update" "--tag" "2026.9.6" "--yes"`) || !strings.Contains(out, "running version not discoverable") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, v := range []string{"2026.9.6; rm -rf /", "$(id)", "--help"} {
		out, err := cli("--to=" + v)
		if err == nil || !strings.Contains(out, "version refused") {
			t.Errorf("--to %q: %v\n%s", v, err, out)
		}
	}
	if out, err := cli("--to", "2026.9.6"); err == nil || !strings.Contains(out, "--prometheus.url") {
		t.Errorf("upgrade without Prometheus: %v\n%s", err, out)
	}
	if code, body := p.do(t, "GET", "/api/v1/upgrades", nil); code != 200 || !strings.Contains(string(body), `"upgrades": []`) {
		t.Errorf("upgrades after refusals: %d %s", code, body)
	}
}
