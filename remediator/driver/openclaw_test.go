package driver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
