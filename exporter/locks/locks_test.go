package locks

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/exporter/target/targettest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/openclaw/proctest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

func TestLocks(t *testing.T) {
	tree := proctest.New(t)
	tree.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway")
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    state_dir: %s\n", t.TempDir()))
	tg.Procs = openclaw.ProcFS{Root: tree.Root}
	dir := tg.Config.LockDirs()[0]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	write := func(name string, data []byte, age time.Duration) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	c := New(tg)
	c.now = func() time.Time { return now }
	c.every = 0 // every scrape starts a refresh

	got, err := targettest.Collect(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if got["openclaw_gateway_lock_files"] != 0 || got["openclaw_gateway_lock_stale_files"] != 0 {
		t.Fatalf("no locks: %v", got)
	}
	if _, ok := got["openclaw_gateway_lock_oldest_age_seconds"]; ok {
		t.Fatal("oldest age present without locks")
	}
	if _, ok := got["openclaw_gateway_locks_age_seconds"]; !ok {
		t.Fatal("no openclaw_gateway_locks_age_seconds")
	}

	write("gateway.00000001.lock", openclaw.Lock{PID: 300, StartTime: 700}.Marshal(), time.Minute) // live
	write("gateway.00000002.lock", openclaw.Lock{PID: 300, StartTime: 600}.Marshal(), time.Hour)   // pid reused
	write("gateway.00000003.lock", openclaw.Lock{PID: 999, StartTime: 5}.Marshal(), 2*time.Hour)   // owner dead
	write("gateway.00000004.lock", []byte("{not json"), 30*time.Minute)                            // unreadable
	write("gateway.state.lock.sqlite", openclaw.Lock{PID: 999}.Marshal(), 24*time.Hour)            // not a gateway lock
	want := map[string]float64{
		"openclaw_gateway_lock_files":              4,
		"openclaw_gateway_lock_stale_files":        2,
		"openclaw_gateway_lock_unreadable_files":   1,
		"openclaw_gateway_lock_oldest_age_seconds": 2 * 3600,
	}
	// The listing is refreshed in the background: a scrape started it, a
	// later one reports it.
	simtest.Eventually(t, time.Minute, func() error {
		got, err := targettest.Collect(t, c)
		if err != nil {
			return err
		}
		for k, v := range want {
			if got[k] != v {
				return fmt.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		return nil
	})
}

// TestUntrustedLocks: a lock another user owns (planted, or left by another
// gateway) is counted as untrusted, never as stale: cleanup_locks will not
// remove it, and an alert on stale locks would fire for ever.
func TestUntrustedLocks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test plants a lock owned by another uid")
	}
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    state_dir: %s\n", t.TempDir()))
	tg.Procs = openclaw.ProcFS{Root: proctest.New(t).Root}
	dir := tg.Config.LockDirs()[0]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, owner := range map[string]int{"gateway.00000001.lock": os.Getuid(), "gateway.00000002.lock": 65534} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, openclaw.Lock{PID: 999, StartTime: 5}.Marshal(), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, owner, -1); err != nil {
			t.Fatal(err)
		}
	}
	got, err := targettest.Collect(t, New(tg))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]float64{
		"openclaw_gateway_lock_files":            2,
		"openclaw_gateway_lock_stale_files":      1,
		"openclaw_gateway_lock_untrusted_files":  1,
		"openclaw_gateway_lock_unreadable_files": 0,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// TestLocksAreNotListedByTheScrape: a scrape reports the last listing and
// its age; a lock written since is not seen until the refresh interval has
// passed, then it is, without any scrape waiting for the listing.
func TestLocksAreNotListedByTheScrape(t *testing.T) {
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    state_dir: %s\n", t.TempDir()))
	tg.Procs = openclaw.ProcFS{Root: proctest.New(t).Root}
	dir := tg.Config.LockDirs()[0]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	c := New(tg)
	c.every = time.Hour
	got, err := targettest.Collect(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if got["openclaw_gateway_lock_files"] != 0 {
		t.Fatalf("no locks yet: %v", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "gateway.00000001.lock"), openclaw.Lock{PID: 999, StartTime: 5}.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err = targettest.Collect(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if got["openclaw_gateway_lock_files"] != 0 {
			t.Fatalf("a scrape within the interval listed the locks again: %v", got)
		}
		if age, ok := got["openclaw_gateway_locks_age_seconds"]; !ok || age < 0 {
			t.Fatalf("openclaw_gateway_locks_age_seconds = %v (present %v)", age, ok)
		}
	}
	c.mu.Lock()
	c.every = 0 // the interval has passed
	c.mu.Unlock()
	simtest.Eventually(t, time.Minute, func() error {
		got, err := targettest.Collect(t, c)
		if err != nil {
			return err
		}
		if got["openclaw_gateway_lock_files"] != 1 || got["openclaw_gateway_lock_stale_files"] != 1 {
			return fmt.Errorf("after the interval: %v, want the new lock, stale", got)
		}
		return nil
	})
}

// TestLocksOfAGatewayRunningAsAnotherUser: the gateway names its lock
// directory by its own uid. An exporter running as another user looked in
// openclaw-<exporter uid>/ and saw no locks; it must look in the gateway's,
// and keep looking there after the gateway died (its stale locks stay).
func TestLocksOfAGatewayRunningAsAnotherUser(t *testing.T) {
	gatewayUID := os.Getuid() + 1000
	tree := proctest.New(t)
	tree.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway")
	tree.Write("300/status", fmt.Sprintf("Name:\topenclaw-gatewa\nUid:\t%d\t%d\t%d\t%d\n", gatewayUID, gatewayUID, gatewayUID, gatewayUID))
	tree.Listen(300, 18789, 4242)
	state := t.TempDir()
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:18789\n    state_dir: %s\n", state))
	tg.Procs = openclaw.ProcFS{Root: tree.Root}
	dir := openclaw.LockDir(state, gatewayUID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]openclaw.Lock{
		"gateway.00000001.lock": {PID: 300, StartTime: 700},
		"gateway.state.lock":    {PID: 300, StartTime: 700},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), l.Marshal(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := New(tg)
	got, err := targettest.Collect(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if got["openclaw_gateway_lock_files"] != 2 || got["openclaw_gateway_lock_stale_files"] != 0 {
		t.Errorf("gateway running as uid %d: %v, want its two locks, live", gatewayUID, got)
	}

	// The gateway is killed: no listener, no process, its locks stay.
	if err := os.RemoveAll(filepath.Join(tree.Root, "300")); err != nil {
		t.Fatal(err)
	}
	tree.Write("net/tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	got, err = targettest.Collect(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if got["openclaw_gateway_lock_files"] != 2 || got["openclaw_gateway_lock_stale_files"] != 2 {
		t.Errorf("after the gateway died: %v, want its two locks, stale", got)
	}
}
