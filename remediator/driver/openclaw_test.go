package driver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// fakeOpenClaw is an openclaw CLI that logs its argv and prints report.
func fakeOpenClaw(t *testing.T, report string, exit int) (argv []string, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "argv")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\necho 'OpenClaw 2026.9.6 (banner)'\ncat <<'EOF'\n" + report + "\nEOF\nexit " + string(rune('0'+exit)) + "\n"
	prog := filepath.Join(dir, "openclaw")
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{prog}, log
}

func TestOpenClawDriver(t *testing.T) {
	ctx := context.Background()
	cmd, log := fakeOpenClaw(t, `{"ok": true, "result": "scheduled"}`, 0)
	spec := &OpenClawSpec{Shared: Shared{Kind: "openclaw"}, Command: cmd}
	if err := spec.Validate("", ""); err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(Target{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stop(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := d.(Restarter).Restart(ctx)
	if err != nil || !strings.Contains(out, "openclaw gateway restart --safe (") {
		t.Fatalf("restart: %q %v", out, err)
	}
	b, _ := os.ReadFile(log)
	if got := string(b); got != "gateway stop --force --json\ngateway start --json\ngateway restart --safe --json\n" {
		t.Errorf("argv:\n%s", got)
	}

	// The report's verdict counts even with exit status 0, and its error
	// is said, as a string or as {message}.
	for _, report := range []string{
		`{"action": "start", "ok": false, "error": "service not installed"}`,
		`{"ok": false, "error": {"type": "cli_error", "message": "service not installed"}}`,
	} {
		cmd, _ := fakeOpenClaw(t, report, 0)
		_, err := (&OpenClaw{Command: cmd}).Start(ctx)
		if err == nil || err.Error() != "openclaw gateway start: service not installed" {
			t.Errorf("%s: %v", report, err)
		}
	}
	cmd, _ = fakeOpenClaw(t, `not json`, 1)
	if _, err := (&OpenClaw{Command: cmd}).Start(ctx); err == nil {
		t.Error("a failing CLI without a report succeeded")
	}
}

func TestOpenClawSpecValidation(t *testing.T) {
	s := &OpenClawSpec{Shared: Shared{Kind: "openclaw"}}
	if err := s.Validate("", ""); err != nil || strings.Join(s.Command, " ") != "openclaw" || !*s.Safe {
		t.Errorf("defaults: %+v %v", s, err)
	}
	s = &OpenClawSpec{Shared: Shared{Kind: "openclaw", Env: []string{"OPENCLAW_SUPERVISOR_MODE=external"}}}
	if err := s.Validate("", ""); err == nil || !strings.Contains(err.Error(), "refuses the start, stop and restart") {
		t.Errorf("external supervisor mode: %v", err)
	}
	s = &OpenClawSpec{Shared: Shared{Kind: "openclaw"}, Command: []string{""}}
	if err := s.Validate("", ""); err == nil {
		t.Error("an empty program was accepted")
	}
}

// fakeGatewayCLI is an openclaw CLI whose restart prints restartReport
// and whose other verbs succeed.
func fakeGatewayCLI(t *testing.T, restartReport string) (argv []string, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "argv")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\ncase \"$2\" in\nrestart) cat <<'EOF'\n" + restartReport + "\nEOF\n;;\n*) echo '{\"ok\": true}' ;;\nesac\n"
	prog := filepath.Join(dir, "openclaw")
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{prog}, log
}

// readyzServer answers /readyz with the uptime of a gateway that restarts
// (its uptime starting over) once restarted() says so.
func readyzServer(t *testing.T, restarted func() bool) int {
	t.Helper()
	boot := time.Now().Add(-time.Hour)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if restarted() && time.Since(boot) > time.Minute {
			boot = time.Now()
		}
		fmt.Fprintf(w, `{"ready":true,"failing":[],"uptimeMs":%d}`, time.Since(boot).Milliseconds())
	}))
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	return port
}

// A deferred safe restart (agent turns in flight) is waited for until the
// gateway has restarted, and the output says the path and how long.
func TestOpenClawRestartWaitsForTheDrain(t *testing.T) {
	var polls atomic.Int32
	port := readyzServer(t, func() bool { return polls.Add(1) > 3 })
	cmd, log := fakeGatewayCLI(t, `{"ok": true, "result": "deferred", "preflight": {"safe": false, "counts": {"totalActive": 3}}}`)
	o := &OpenClaw{Command: cmd, Safe: true, Port: port, Every: 10 * time.Millisecond}
	out, err := o.Restart(context.Background())
	if err != nil || !strings.Contains(out, `"result": "deferred"`) || !strings.Contains(out, "path: openclaw gateway restart --safe: drained and restarted, ready ") {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	if polls.Load() < 4 {
		t.Errorf("restart returned after %d polls, before the gateway restarted", polls.Load())
	}
	if b, _ := os.ReadFile(log); string(b) != "gateway restart --safe --json\n" {
		t.Errorf("argv: %s", b)
	}
}

// A safe restart the CLI could not ask for, or one that does not happen in
// time, falls back to the service's stop and start.
func TestOpenClawRestartFallsBack(t *testing.T) {
	cmd, log := fakeGatewayCLI(t, `{"ok": false, "error": "gateway unreachable"}`)
	out, err := (&OpenClaw{Command: cmd, Safe: true, Port: readyzServer(t, func() bool { return false })}).Restart(context.Background())
	if err != nil || !strings.Contains(out, "path: stop and start (the restart failed: openclaw gateway restart: gateway unreachable)") {
		t.Fatalf("fallback: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(log); string(b) != "gateway restart --safe --json\ngateway stop --force --json\ngateway start --json\n" {
		t.Errorf("argv: %s", b)
	}

	cmd, _ = fakeGatewayCLI(t, `{"ok": true, "result": "scheduled"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	out, err = (&OpenClaw{Command: cmd, Safe: true, Port: readyzServer(t, func() bool { return false }), Every: 10 * time.Millisecond}).Restart(ctx)
	if err != nil || !strings.Contains(out, "path: stop and start (the restart failed: the gateway did not restart in time: not restarted yet") {
		t.Fatalf("deadline: %v\n%s", err, out)
	}
}

// The process driver's SIGTERM path asks the gateway whether it drains:
// /startupz draining, or /readyz failing gateway-draining; an answer
// without either is not draining, and none at all is no answer (a gateway
// seen draining that stops answering is still draining).
func TestDrainState(t *testing.T) {
	for _, c := range []struct {
		startupz, readyz string
		want             int
	}{
		{`{"ok":false,"status":"draining"}`, `{"ready":true,"failing":[]}`, draining},
		{`{"ok":true,"status":"started"}`, `{"ready":false,"failing":["gateway-draining"]}`, draining},
		{`not json`, `{"ready":false,"failing":["telegram"]}`, notDraining},
		{`{"ok":true,"status":"started"}`, `{"ready":true,"failing":[]}`, notDraining},
		{`not json`, `not json`, noAnswer},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/startupz" {
				fmt.Fprint(w, c.startupz)
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, c.readyz)
		}))
		port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
		if got := drainState(context.Background(), port); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.startupz, c.readyz, got, c.want)
		}
		srv.Close()
	}
	if got := drainState(context.Background(), simtest.FreePort(t)); got != noAnswer {
		t.Errorf("nothing listening: %d, want no answer", got)
	}
}
