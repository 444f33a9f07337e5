package target_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/exporter/target"
	"github.com/clawwatch/clawwatch/exporter/target/targettest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/openclaw/proctest"
)

// TestProcessIsCachedAndRediscovered: a known process is confirmed by its
// start time; a restarted or reused pid leads to a new discovery.
func TestProcessIsCachedAndRediscovered(t *testing.T) {
	tree := proctest.New(t)
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    state_dir: %s\n", t.TempDir()))
	tg.Procs = openclaw.ProcFS{Root: tree.Root}
	dir := tg.Config.LockDirs()[0]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	lock := func(pid int, start uint64) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "gateway.0000abcd.lock"), openclaw.Lock{PID: pid, StartTime: start}.Marshal(), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	tree.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway")
	lock(300, 700)
	p, m, err := tg.Process()
	if err != nil || p != (openclaw.Process{PID: 300, StartTime: 700}) || m != openclaw.ByLock {
		t.Fatalf("by lock: %+v %s %v", p, m, err)
	}

	// The pid now belongs to another process: the lock is stale and
	// nothing else claims the gateway.
	tree.Add(300, 1, "bash", 'S', 800, "bash")
	if p, _, err := tg.Process(); !target.ErrNoProcess(err) {
		t.Fatalf("after pid reuse: %+v %v, want no process", p, err)
	}

	// The gateway came back under a new pid and wrote its lock.
	tree.Add(400, 1, "openclaw-gatewa", 'S', 900, "openclaw-gateway")
	lock(400, 900)
	if p, _, err := tg.Process(); err != nil || p.PID != 400 {
		t.Fatalf("after restart: %+v %v", p, err)
	}
	// Cached: confirmed by its start time even once the lock is gone.
	if err := os.Remove(filepath.Join(dir, "gateway.0000abcd.lock")); err != nil {
		t.Fatal(err)
	}
	if p, m, err := tg.Process(); err != nil || p.PID != 400 || m != openclaw.ByLock {
		t.Fatalf("cached: %+v %s %v", p, m, err)
	}
}

// TestOneStatReadPerScrape: the collectors of one scrape share the read
// that confirmed the process (its stat travels with it); the next scrape
// reads again and sees a process that changed.
func TestOneStatReadPerScrape(t *testing.T) {
	tree := proctest.New(t)
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    state_dir: %s\n", t.TempDir()))
	tg.Procs = openclaw.ProcFS{Root: tree.Root}
	dir := tg.Config.LockDirs()[0]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gateway.0000abcd.lock"), openclaw.Lock{PID: 300, StartTime: 700}.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	tree.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway")

	tg.Begin()
	p, st, err := tg.ProcessStat()
	if err != nil || p.PID != 300 || st.StartTime != 700 || st.Comm != "openclaw-gatewa" {
		t.Fatalf("first: %+v %+v %v", p, st, err)
	}
	// The pid is reused within the scrape: the scrape's confirmation stands.
	tree.Add(300, 1, "bash", 'S', 800, "bash")
	if p, st, err := tg.ProcessStat(); err != nil || p.PID != 300 || st.Comm != "openclaw-gatewa" {
		t.Fatalf("same scrape: %+v %+v %v", p, st, err)
	}
	// The next scrape reads the stat again.
	tg.Begin()
	if p, _, err := tg.Process(); !target.ErrNoProcess(err) {
		t.Fatalf("next scrape, after pid reuse: %+v %v, want no process", p, err)
	}
}

// TestStateDirFromTheGatewayProcess: with state_dir left out, the state
// directory is the one the gateway process was started for (its
// environment), kept once the process is gone; a configured one wins; with
// neither a process nor a ~/.openclaw here, the error says to set it.
func TestStateDirFromTheGatewayProcess(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // the exporter's ~, with no .openclaw
	tree := proctest.New(t)
	tg := targettest.New(t, "gateways:\n  - name: g\n    url: http://127.0.0.1:18789\n")
	tg.Procs = openclaw.ProcFS{Root: tree.Root}
	if dir, err := tg.StateDir(); err == nil || !strings.Contains(err.Error(), "set state_dir") {
		t.Fatalf("no process, no ~/.openclaw: %q %v, want an error saying to set state_dir", dir, err)
	}

	tree.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway")
	tree.Listen(300, 18789, 4242)
	tree.Environ(300, "HOME=/home/claw", "OPENCLAW_STATE_DIR=/srv/openclaw/state")
	if dir, err := tg.StateDir(); err != nil || dir != "/srv/openclaw/state" {
		t.Fatalf("from the process's environment: %q %v", dir, err)
	}
	tree.Add(300, 1, "bash", 'S', 800, "bash") // gone, its pid reused
	if dir, err := tg.StateDir(); err != nil || dir != "/srv/openclaw/state" {
		t.Fatalf("once the process is gone: %q %v, want the last one found", dir, err)
	}

	configured := targettest.New(t, "gateways:\n  - name: g\n    url: http://127.0.0.1:18789\n    state_dir: /var/lib/openclaw\n")
	configured.Procs = tg.Procs
	if dir, err := configured.StateDir(); err != nil || dir != "/var/lib/openclaw" {
		t.Fatalf("configured: %q %v", dir, err)
	}
}
