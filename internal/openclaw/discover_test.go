package openclaw

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestListenerPIDFindsThisProcess(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "tcp6" {
				addr = "[::1]:0"
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				if network == "tcp6" && os.Getenv("CI") == "" {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			pid, err := DefaultProcFS.ListenerPID(port)
			if err != nil || pid != os.Getpid() {
				t.Fatalf("ListenerPID(%d) = %d, %v; want %d", port, pid, err, os.Getpid())
			}
			// With the right candidate, the same answer.
			if pid, err := DefaultProcFS.ListenerPID(port, os.Getpid()); err != nil || pid != os.Getpid() {
				t.Fatalf("ListenerPID with candidate = %d, %v", pid, err)
			}
		})
	}
}

func TestListenerPIDNoListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if _, err := DefaultProcFS.ListenerPID(port); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestIsGatewayTitle(t *testing.T) {
	cases := []struct {
		comm string
		argv []string
		want bool
	}{
		{"openclaw-gatewa", []string{"openclaw-gateway"}, true},
		{"node", []string{"openclaw-gateway"}, true},
		{"node", []string{"/usr/bin/node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "gateway", "run"}, true},
		{"openclaw", []string{"openclaw", "gateway", "--port", "18789"}, true},
		{"openclaw", []string{"openclaw", "update", "--tag", "2026.9.6"}, false},
		{"openclaw", []string{"openclaw", "gateway", "status"}, false},
		{"node", []string{"node", "openclaw.mjs", "gateway", "stop"}, false},
		{"timeout", []string{"timeout", "60", "/usr/bin/openclaw", "gateway", "run"}, false},
		{"sudo", []string{"sudo", "-u", "oc", "openclaw", "gateway", "run"}, false},
		{"MainThread", []string{"/usr/bin/node", "/x/node_modules/openclaw/dist/process/spawn-broker/worker.js"}, false},
		{"bash", nil, false},
	}
	for _, c := range cases {
		if got := IsGatewayTitle(c.comm, c.argv); got != c.want {
			t.Errorf("IsGatewayTitle(%q, %q) = %v", c.comm, c.argv, got)
		}
	}
}

func TestDiscovererFallsBackToLockThenTitle(t *testing.T) {
	fp := newFakeProc(t)
	// A fake tree has no sockets: port discovery fails.
	fp.Write(filepath.Join("net", "tcp"), "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	fp.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway")
	fp.Add(301, 300, "MainThread", 'S', 710, "/usr/bin/node", "/x/node_modules/openclaw/dist/process/spawn-broker/worker.js")
	fp.Add(400, 1, "openclaw-gatewa", 'S', 900, "openclaw-gateway")
	lockDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(lockDir, "gateway.12345678.lock"), Lock{PID: 400, StartTime: 900, Port: 18789}.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Another gateway's live lock in the same directory is not ours.
	if err := os.WriteFile(filepath.Join(lockDir, "gateway.00000000.lock"), Lock{PID: 300, StartTime: 700, Port: 19000}.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}

	d := Discoverer{Procs: fp.fs(), Port: 18789, LockDirs: []string{lockDir}}
	p, m, err := d.Find(Process{})
	if err != nil || m != ByLock || p != (Process{PID: 400, StartTime: 900}) {
		t.Fatalf("with a live lock: %+v %s %v", p, m, err)
	}
	d.LockDirs = nil
	if p, m, err = d.Find(Process{}); err == nil {
		t.Fatalf("two gateways by title: found %+v %s, want no guess", p, m)
	}
	all, err := fp.fs().FindByTitle()
	if err != nil || len(all) != 2 {
		t.Fatalf("FindByTitle = %+v, %v; want the two gateways and not the worker", all, err)
	}
	if err := os.RemoveAll(filepath.Join(fp.Root, "400")); err != nil {
		t.Fatal(err)
	}
	p, m, err = d.Find(Process{})
	if err != nil || m != ByTitle || p.PID != 300 {
		t.Fatalf("by title: %+v %s %v", p, m, err)
	}
	empty := newFakeProc(t)
	if _, _, err := (Discoverer{Procs: empty.fs()}).Find(Process{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nothing to find: err = %v", err)
	}
}

// TestFindIgnoresLocksItCannotTrust: with nothing on the port, a lock finds
// the gateway only if it is trusted, held by a gateway (not another openclaw
// command), and names a process of the lock's owner.
func TestFindIgnoresLocksItCannotTrust(t *testing.T) {
	needRoot(t)
	fp := newFakeProc(t)
	fp.Write(filepath.Join("net", "tcp"), "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	fp.Add(400, 1, "sleep", 'S', 900, "sleep", "300")
	fp.Add(500, 1, "openclaw-gatewa", 'S', 950, "openclaw-gateway")
	fp.Write("500/status", "Name:\topenclaw-gatewa\nUid:\t1001\t1001\t1001\t1001\n") // another user's gateway
	me := os.Getuid()
	for _, c := range []struct {
		name     string
		dirMode  os.FileMode
		owner    int
		lock     Lock
		lockUser int // the uid the directory is named for
	}{
		{"planted by another user in a sticky directory", 0o777 | os.ModeSticky, nobody, Lock{PID: 400, StartTime: 900, Port: 18789}, me},
		{"in a world-writable directory", 0o777, me, Lock{PID: 400, StartTime: 900, Port: 18789}, me},
		{"held by another openclaw command", 0o755, me, Lock{PID: 400, StartTime: 900, Port: 18789, Role: "sqlite-maintenance"}, me},
		{"naming another user's process", 0o755, 1000, Lock{PID: 500, StartTime: 950, Port: 18789}, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "openclaw-"+strconv.Itoa(c.lockUser))
			path := filepath.Join(dir, "gateway.12345678.lock")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, c.lock.Marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{os.Chown(path, c.owner, -1), os.Chown(dir, c.lockUser, -1), os.Chmod(dir, c.dirMode)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			d := Discoverer{Procs: fp.fs(), Port: 18789, LockDirs: []string{dir}, SkipTitle: true}
			if p, m, err := d.Find(Process{}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("found %+v by %s (%v); want ErrNotFound", p, m, err)
			}
		})
	}
}
