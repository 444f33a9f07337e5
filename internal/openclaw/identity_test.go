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
	fp.Add(300, 1, "node", 'S', 3000, "node", "/srv/wrapper.js") // owns a lock with its start time
	fp.Add(400, 1, "node", 'S', 4000, "node", "/srv/other.js")   // its lock names another start time
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
	write("gateway.aaaa0002.lock", Lock{PID: 400, StartTime: 3999, Port: 18789})
	write("gateway.aaaa0003.lock", Lock{PID: 200, StartTime: 2000, Port: 19000}) // another gateway's port
	id := Identity{Procs: fp.fs(), Port: 18789, LockDirs: []string{locks}, Started: []Process{{PID: 500, StartTime: 5000}}}

	for _, c := range []struct {
		proc Process
		want Evidence
		err  error
	}{
		{Process{100, 1000}, EvidenceTitle, nil},
		{Process{300, 3000}, EvidenceLock, nil},
		{Process{501, 5001}, EvidenceStarted, nil},
		{Process{500, 5000}, EvidenceStarted, nil},
		{Process{200, 2000}, "", ErrNotGateway},
		{Process{400, 4000}, "", ErrNotGateway},
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
