package process

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/exporter/target/targettest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/openclaw/proctest"
)

// TestUpdateReportsThisProcess lets the test process play the gateway: it
// listens on the gateway port, holds connections and extra files, and has a
// configured memory limit.
func TestUpdateReportsThisProcess(t *testing.T) {
	const conns, files = 20, 50
	addr := proctest.Connections(t, conns)
	for range files {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: self\n    url: http://%s\n    state_dir: %s\n    memory_limit_bytes: 123456789\n",
		addr, t.TempDir()))
	c := New(tg)
	c.tcp.every = 0             // refresh on every scrape (in the background): the accepts are still running
	host := tg.Procs.Root == "" // clawwatch_portable: the macOS and Windows path

	var got map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		got, err = targettest.Collect(t, c)
		if err != nil {
			t.Fatal(err)
		}
		// Accepts run concurrently: poll until all are established.
		if got["openclaw_gateway_process_tcp_connections{state=established}"] == conns || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	start := float64(time.Now().Add(-time.Hour).Unix())
	checks := []struct {
		name string
		ok   func(v float64) bool
		want string
	}{
		{"openclaw_gateway_process_up", func(v float64) bool { return v == 1 }, "1"},
		{"openclaw_gateway_processes", func(v float64) bool { return v == 1 }, "1 (this process, found by its port)"},
		{"openclaw_gateway_process_open_fds", func(v float64) bool {
			// The host path counts while its socket walk has files open.
			return v >= conns*2+files && (host || math.Abs(v-float64(len(entries))) <= 5)
		}, fmt.Sprintf("about %d", len(entries))},
		{"openclaw_gateway_process_max_fds", func(v float64) bool { return v == float64(lim.Cur) }, strconv.FormatUint(lim.Cur, 10)},
		{"openclaw_gateway_process_resident_memory_bytes", func(v float64) bool { return v > 1<<20 }, "> 1 MiB"},
		{"openclaw_gateway_process_virtual_memory_bytes", func(v float64) bool { return v > 1<<20 }, "> 1 MiB"},
		{"openclaw_gateway_process_threads", func(v float64) bool { return v >= 1 }, ">= 1"},
		{"openclaw_gateway_process_cpu_seconds_total", func(v float64) bool { return v > 0 }, "> 0"},
		{"openclaw_gateway_process_start_time_seconds", func(v float64) bool { return v > start && v <= float64(time.Now().Unix()) }, "within the last hour"},
		{"openclaw_gateway_process_memory_limit_bytes", func(v float64) bool { return v == 123456789 }, "the configured 123456789"},
		{"openclaw_gateway_process_tcp_connections{state=listen}", func(v float64) bool { return v == 1 }, "1"},
		{"openclaw_gateway_process_tcp_connections{state=established}", func(v float64) bool { return v == conns }, strconv.Itoa(conns)},
		{"openclaw_gateway_process_tcp_connections{state=time_wait}", func(v float64) bool { return v == 0 }, "0, present"},
		{"openclaw_gateway_process_tcp_connections_age_seconds", func(v float64) bool { return v >= 0 && v < 10 }, "the age of a count taken during this test"},
		{"openclaw_gateway_processes_age_seconds", func(v float64) bool { return v >= 0 && v < 10 }, "the age of a count taken during this test"},
		{"openclaw_gateway_process_is_gateway", func(v float64) bool { return v == 0 }, "0 (a test binary, not titled like a gateway)"},
	}
	for _, ch := range checks {
		v, ok := got[ch.name]
		if host && ch.name == "openclaw_gateway_process_max_fds" {
			// /proc's: not reported on the host path.
			if ok {
				t.Errorf("%s = %v on the host path, want absent", ch.name, v)
			}
			continue
		}
		if !ok || !ch.ok(v) {
			t.Errorf("%s = %v (present %v), want %s", ch.name, v, ok, ch.want)
		}
	}
}

// TestAnotherProgramOnTheGatewayPort: whatever holds the port is found as
// the process (that is how the gateway is found), but only a process shown
// to be the gateway says so; this test process, an unrelated listener, does
// not, even when a gateway lock names it with its pid and start time: a
// lock's word proves nothing (the remediator would refuse to signal it).
func TestAnotherProgramOnTheGatewayPort(t *testing.T) {
	addr := proctest.Connections(t, 0)
	state := t.TempDir()
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: squatted\n    url: http://%s\n    state_dir: %s\n", addr, state))
	c := New(tg)
	got, err := targettest.Collect(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if got["openclaw_gateway_process_up"] != 1 || got["openclaw_gateway_process_is_gateway"] != 0 {
		t.Fatalf("an unrelated listener: up %v, is_gateway %v; want 1 and 0", got["openclaw_gateway_process_up"], got["openclaw_gateway_process_is_gateway"])
	}
	self, err := openclaw.DefaultProcFS.Identify(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.StartTime, err = openclaw.DefaultProcFS.LockStartTime(self.PID); err != nil {
		t.Fatal(err)
	}
	lockDir := openclaw.LockDir(state, os.Getuid())
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	lock := openclaw.Lock{PID: self.PID, StartTime: self.StartTime, Port: addr.Port}
	if err := os.WriteFile(filepath.Join(lockDir, "gateway.12345678.lock"), lock.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err = targettest.Collect(t, c); err != nil || got["openclaw_gateway_process_is_gateway"] != 0 {
		t.Fatalf("with a lock naming it: is_gateway %v, %v; want 0", got["openclaw_gateway_process_is_gateway"], err)
	}
}

func TestUpdateWithoutAProcess(t *testing.T) {
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: gone\n    url: http://127.0.0.1:1\n    state_dir: %s\n", t.TempDir()))
	tg.Procs = openclaw.ProcFS{Root: proctest.New(t).Root}
	got, err := targettest.Collect(t, New(tg))
	if err != nil {
		t.Fatal(err)
	}
	if _, aged := got["openclaw_gateway_processes_age_seconds"]; got["openclaw_gateway_process_up"] != 0 || len(got) != 3 || got["openclaw_gateway_processes"] != 0 || !aged {
		t.Fatalf("got %v, want only process_up 0, processes 0 and its age", got)
	}
}

// TestUnreadableProcessFailsTheCollector: a process that is found but whose
// descriptors cannot be read is an error, never a zero.
func TestUnreadableProcessFailsTheCollector(t *testing.T) {
	tree := proctest.New(t)
	pid := os.Getpid()
	tree.Add(pid, 1, "openclaw-gatewa", 'S', 4242, "openclaw-gateway")
	// fd is a file here: reading the directory fails.
	if err := os.RemoveAll(filepath.Join(tree.Root, strconv.Itoa(pid), "fd")); err != nil {
		t.Fatal(err)
	}
	tree.Write(filepath.Join(strconv.Itoa(pid), "fd"), "")
	state := t.TempDir()
	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: locked\n    url: http://127.0.0.1:1\n    state_dir: %s\n", state))
	tg.Procs = openclaw.ProcFS{Root: tree.Root}
	lockDir := tg.Config.LockDirs()[0]
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lockDir, "gateway.12345678.lock"), openclaw.Lock{PID: pid, StartTime: 4242, Port: 1}.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := targettest.Collect(t, New(tg))
	if err == nil {
		t.Fatalf("no error; got %v", got)
	}
	if _, ok := got["openclaw_gateway_process_open_fds"]; ok {
		t.Fatalf("open_fds reported although unreadable: %v", got)
	}
}

// TestCountsOnlyProcessesClaimingThisGateway: other gateways on the host
// (other state directories) are not a conflict; a second copy started for
// the same state directory is.
func TestCountsOnlyProcessesClaimingThisGateway(t *testing.T) {
	tree := proctest.New(t)
	state := t.TempDir()
	home := filepath.Dir(state)
	if err := os.Symlink(state, filepath.Join(t.TempDir(), "link")); err != nil {
		t.Fatal(err)
	}
	tree.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway") // ours, found by port
	tree.Environ(300, "HOME=/nowhere")
	tree.Add(400, 1, "openclaw-gatewa", 'S', 800, "openclaw-gateway") // a second copy for our state dir
	tree.Environ(400, "OPENCLAW_STATE_DIR="+state+"/")
	tree.Add(500, 1, "openclaw-gatewa", 'S', 900, "openclaw-gateway") // another gateway
	tree.Environ(500, "HOME="+home)
	tree.Add(600, 1, "openclaw-gatewa", 'S', 950, "openclaw-gateway") // environment unreadable
	if err := os.MkdirAll(filepath.Join(tree.Root, "600", "environ"), 0o755); err != nil {
		t.Fatal(err)
	}
	tree.Add(700, 1, "node", 'S', 990, "node", "worker.js") // not a gateway
	tree.Environ(700, "OPENCLAW_STATE_DIR="+state)

	tg := targettest.New(t, fmt.Sprintf("gateways:\n  - name: ours\n    url: http://127.0.0.1:1\n    state_dir: %s\n", state))
	tg.Procs = openclaw.ProcFS{Root: tree.Root}
	c := New(tg)
	own := openclaw.Process{PID: 300, StartTime: 700}
	if n, err := c.countProcesses(own); err != nil || n != 3 {
		t.Fatalf("count = %d, %v; want 3: ours, the copy for the same state directory, the unreadable one", n, err)
	}
	tree.Add(800, 1, "openclaw-gatewa", 'S', 999, "openclaw-gateway")
	tree.Environ(800, "OPENCLAW_STATE_DIR="+state)
	if n, err := c.countProcesses(openclaw.Process{}); err != nil || n != 3 {
		t.Fatalf("count = %d, %v without our own process, want 3 (400, 600, 800)", n, err)
	}
}

// TestRefreshedWalksOffTheScrapePath: a count is taken at once for a process
// not seen before, then read from the cache while it is younger than its
// interval, then refreshed in the background (one walk at a time) while
// scrapes keep reading the last value.
func TestRefreshedWalksOffTheScrapePath(t *testing.T) {
	var walks atomic.Int32
	release := make(chan struct{})
	var blocked atomic.Bool
	fetch := func() (int, error) {
		n := int(walks.Add(1))
		if blocked.Load() {
			<-release
		}
		return n, nil
	}
	a, b := openclaw.Process{PID: 1, StartTime: 1}, openclaw.Process{PID: 2, StartTime: 2}
	r := refreshed[int]{every: time.Hour}
	if v, at, err := r.get(a, fetch); v != 1 || at.IsZero() || err != nil {
		t.Fatalf("first get = %d, %v, %v; want the walk's 1 at once", v, at, err)
	}
	if v, _, _ := r.get(a, fetch); v != 1 || walks.Load() != 1 {
		t.Fatalf("within the interval: %d after %d walks; want the cached 1 and no walk", v, walks.Load())
	}
	if v, _, _ := r.get(b, fetch); v != 2 {
		t.Fatalf("a new process: %d; want a walk of its own (2), not its predecessor's count", v)
	}
	if r.next != recountNew {
		t.Fatalf("after the first count of a new process the next is due in %v, want %v (its predecessor may still be exiting)", r.next, recountNew)
	}

	r.every, r.next = 0, 0
	blocked.Store(true)
	for range 3 { // one walk starts, blocked; the others read the last value and start none
		if v, _, _ := r.get(b, fetch); v != 2 {
			t.Fatalf("while the walk runs: %d; want the last value 2", v)
		}
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _, _ := r.get(b, fetch)
		if v == 3 {
			break
		}
		if v != 2 || time.Now().After(deadline) {
			t.Fatalf("after the background walk: %d (%d walks); want 3, the one walk started while blocked", v, walks.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRefreshIntervalStretchesWithCost: a walk that costs more than
// maxShare of a core over the interval waits longer before the next.
func TestRefreshIntervalStretchesWithCost(t *testing.T) {
	if got := stretch(5*time.Second, time.Millisecond); got != 5*time.Second {
		t.Errorf("interval after a 1 ms walk = %v, want the configured 5s", got)
	}
	if got, want := stretch(5*time.Second, 100*time.Millisecond), time.Duration(float64(100*time.Millisecond)/maxShare); got != want || got <= 5*time.Second {
		t.Errorf("interval after a 100 ms walk = %v, want %v", got, want)
	}
}

func TestMaxFDs(t *testing.T) {
	cases := []struct {
		limits string
		want   float64
		err    bool
	}{
		{"Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n", 1024, false},
		{"Max open files            unlimited            unlimited            files\n", math.Inf(1), false},
		{"Max processes             100                  100                  processes\n", 0, true},
	}
	for _, c := range cases {
		tree := proctest.New(t)
		tree.Write("7/limits", c.limits)
		got, err := maxFDs(openclaw.ProcFS{Root: tree.Root}, 7)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("%q: %v, %v; want %v (error %v)", c.limits, got, err, c.want, c.err)
		}
	}
}
