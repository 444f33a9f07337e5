package openclaw

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentityConfirm(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(100, 1, "openclaw-gatewa", 'S', 1000, "openclaw-gateway")
	fp.Add(200, 1, "python3", 'S', 2000, "python3", "-m", "http.server", "18789")
	fp.Add(300, 1, "node", 'S', 3000, "node", "/srv/wrapper.js") // a trusted lock names it, with its start time
	fp.Add(400, 1, "node", 'S', 4000, "node", "--max-old-space-size=4096", "/usr/lib/node_modules/openclaw/dist/entry.js", "gateway", "--port", "18789")
	fp.Add(500, 1, "run-gw", 'S', 5000, "/usr/local/bin/run-gw")
	fp.Add(501, 500, "node", 'S', 5001, "node", "server.js") // child of a wrapper we started
	fp.Add(600, 1, "bash", 'Z', 6000, "bash")
	locks := t.TempDir()
	write := func(name string, l Lock) {
		if err := os.WriteFile(filepath.Join(locks, name), l.Marshal(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("gateway.aaaa0001.lock", Lock{PID: 300, StartTime: 3000, Port: 18789})
	if ls, err := FindLocks(locks); err != nil || len(ls) != 1 || !ls[0].Trusted() {
		t.Fatalf("the lock is not a trusted one: %+v %v", ls, err)
	}
	id := Identity{Procs: fp.fs(), Started: []Process{{PID: 500, StartTime: 5000}}}

	for _, c := range []struct {
		proc Process
		want Evidence
		err  error
	}{
		{Process{100, 1000}, EvidenceTitle, nil},
		{Process{300, 3000}, "", ErrNotGateway},  // a lock's word alone proves nothing
		{Process{400, 4000}, EvidenceTitle, nil}, // node with options, then the package's entry point
		{Process{501, 5001}, EvidenceStarted, nil},
		{Process{500, 5000}, EvidenceStarted, nil},
		{Process{200, 2000}, "", ErrNotGateway},
		{Process{100, 999}, "", ErrNoProcess}, // pid reused since it was found
		{Process{600, 6000}, "", ErrNoProcess},
		{Process{700, 7000}, "", ErrNoProcess},
	} {
		got, err := id.Confirm(c.proc)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%+v: %q, %v; want %q, %v", c.proc, got, err, c.want, c.err)
		}
	}
	_, err := id.Confirm(Process{200, 2000})
	if err == nil || !strings.Contains(err.Error(), `pid 200 ("python3": "python3 -m http.server 18789")`) {
		t.Errorf("the refusal does not say what the process is: %v", err)
	}
}
