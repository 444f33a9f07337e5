package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// simEnv is an action environment for a simulator with a token, whose
// target verifies within verify.
func simEnv(t *testing.T, s *simtest.Sim, token, verify string) func(labels map[string]string) *Env {
	t.Helper()
	dir := t.TempDir()
	tokenLine := ""
	if token != "" {
		file := filepath.Join(dir, "token")
		if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tokenLine = "    token_file: " + file + "\n"
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`targets:
  - name: sim
    url: %s
%s    driver: {kind: command, start: [/bin/true], stop: [/bin/true]}
    verify: {timeout: %s, interval: 50ms}
`, s.URL, tokenLine, verify)), dir, ConfigSpecs())
	if err != nil {
		t.Fatal(err)
	}
	return func(labels map[string]string) *Env {
		return &Env{Config: cfg, Target: cfg.Target("sim"), Incident: &journal.Incident{ID: "i-1", Labels: labels}, Now: time.Now()}
	}
}

func TestRestartChannelHealsADownChannel(t *testing.T) {
	const token = "channel-token"
	s := simtest.Start(t, simtest.Options{Token: token})
	env := simEnv(t, s, token, "10s")
	s.Fault(t, `{"kind":"channel_down","channel":"discord"}`)
	res, err := restartChannelAction{}.Run(context.Background(), env(map[string]string{"channel": "discord", "account": "default"}))
	if err != nil {
		t.Fatalf("restart_channel: %v\n%s", err, res.Output)
	}
	for _, want := range []string{"channels.stop discord/default: stopped=true", "channels.start discord/default: started=true outcome=handed-off", "channel discord/default connected again"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
	if code, body := s.Control(t, "GET", "/faults", ""); code != 200 || strings.Contains(body, "channel_down") {
		t.Errorf("the channel_down fault is still in force: %d %s", code, body)
	}
}

// Labels are untrusted: a channel or account the gateway does not report,
// a missing channel label, a target without a token: refused, nothing
// called.
func TestRestartChannelRefusals(t *testing.T) {
	const token = "channel-token"
	s := simtest.Start(t, simtest.Options{Token: token})
	env := simEnv(t, s, token, "2s")
	for _, labels := range []map[string]string{
		{"channel": "irc", "account": "default"},
		{"channel": "telegram", "account": "../../etc"},
		{"channel": "telegram", "account": "work"},
		{"account": "default"},
	} {
		res, err := restartChannelAction{}.Run(context.Background(), env(labels))
		if !errors.Is(err, ErrRefused) || res.Output != "" {
			t.Errorf("%v: %v %q, want refused before any call", labels, err, res.Output)
		}
	}
	// One account: the channel label alone names it.
	if _, err := (restartChannelAction{}).Run(context.Background(), env(map[string]string{"channel": "telegram"})); err != nil {
		t.Errorf("telegram without an account label: %v", err)
	}
	_, err := restartChannelAction{}.Run(context.Background(), simEnv(t, s, "", "2s")(map[string]string{"channel": "telegram", "account": "default"}))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "no token_file") {
		t.Errorf("without a token: %v", err)
	}
}

// A channel that does not come back fails the action at the deadline,
// saying what the gateway last reported.
func TestRestartChannelDeadline(t *testing.T) {
	const token = "channel-token"
	s := simtest.Start(t, simtest.Options{Token: token})
	s.Fault(t, `{"kind":"channel_down","channel":"telegram","sticky":true}`)
	start := time.Now()
	res, err := restartChannelAction{}.Run(context.Background(), simEnv(t, s, token, "1s")(map[string]string{"channel": "telegram", "account": "default"}))
	if err == nil || errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "did not reconnect within 1s") || !strings.Contains(res.Output, "connected=false") {
		t.Errorf("sticky fault: %v\n%s", err, res.Output)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s past a 1s deadline", d)
	}
}

// Safe mode: restart refuses the gateway, counting nothing; restart_channel
// starts the held channel by hand.
func TestSafeMode(t *testing.T) {
	const token = "channel-token"
	s := simtest.Start(t, simtest.Options{Token: token})
	env := simEnv(t, s, token, "10s")
	s.Fault(t, `{"kind":"safe_mode"}`)
	_, err := restartAction{}.Run(context.Background(), env(nil))
	if !errors.Is(err, ErrRefused) || !errors.Is(err, errSafeMode) || !strings.Contains(err.Error(), "holds 2 channel account(s)") {
		t.Errorf("restart in safe mode: %v", err)
	}
	res, err := restartChannelAction{}.Run(context.Background(), env(map[string]string{"channel": "telegram", "account": "default"}))
	if err != nil || !strings.Contains(res.Output, "held by the gateway's safe mode") || !strings.Contains(res.Output, "connected again") {
		t.Errorf("restart_channel in safe mode: %v\n%s", err, res.Output)
	}
}
