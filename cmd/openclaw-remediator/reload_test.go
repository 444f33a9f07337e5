package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// reloadConfig is a configuration with the named targets, four lines each
// after two lines of header.
func reloadConfig(t *testing.T, dir string, targets ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "journal: {path: %s}\ntargets:\n", filepath.Join(dir, "journal.db"))
	for _, name := range targets {
		fmt.Fprintf(&b, "  - name: %s\n    url: http://127.0.0.1:%d\n    state_dir: %s\n    driver: {kind: process, start: [/bin/true]}\n",
			name, simtest.FreePort(t), filepath.Join(dir, "state-"+name))
	}
	return b.String()
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// metric returns the remediator's exposition.
func (p *proc) metrics(t *testing.T) string {
	t.Helper()
	_, b := p.doAs(t, "", http.MethodGet, "/metrics", nil)
	return string(b)
}

func (p *proc) waitMetric(t *testing.T, line string) {
	t.Helper()
	simtest.Eventually(t, 20*time.Second, func() error {
		if m := p.metrics(t); !strings.Contains(m, "\n"+line+"\n") {
			return fmt.Errorf("no %q in /metrics", line)
		}
		return nil
	})
}

func cleanupAlert(target, fingerprint string) []byte {
	return []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"r","groupKey":"g","alerts":[{"status":"firing",
"labels":{"alertname":"OpenClawStaleLock","gateway":%q,"remediation":"cleanup_locks"},"annotations":{},
"startsAt":"2026-11-20T22:41:07.118Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":%q}]}`, target, fingerprint))
}

// SIGHUP and POST /-/reload re-read the configuration file: a good file
// takes effect, a bad one keeps the running configuration, sets
// config_last_reload_successful to 0 and logs the file and line.
func TestReload(t *testing.T) {
	dir, _, tokenFile, _ := setup(t)
	cfg := filepath.Join(dir, "reload.yml")
	one := reloadConfig(t, dir, "default")
	write(t, cfg, one)
	p := startRemediator(t, cfg, tokenFile, simtest.FreePort(t))
	p.waitMetric(t, `openclaw_remediator_circuit_open{target="default"} 0`)
	p.waitMetric(t, "openclaw_remediator_config_last_reload_successful 1")
	if m := p.metrics(t); strings.Contains(m, `target="second"`) {
		t.Fatal("second target before the reload")
	}

	// A good file: the new target appears.
	two := reloadConfig(t, dir, "default", "second")
	write(t, cfg, two)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitMetric(t, `openclaw_remediator_circuit_open{target="second"} 0`)
	p.waitMetric(t, "openclaw_remediator_config_last_reload_successful 1")

	// A bad file: an unknown key on line 10 (the second target's driver).
	i := strings.LastIndex(two, "driver:")
	bad := two[:i] + "drivr:" + two[i+len("driver:"):]
	if lines := strings.Split(bad, "\n"); !strings.Contains(lines[9], "drivr") {
		t.Fatalf("line 10 is %q", lines[9])
	}
	write(t, cfg, bad)
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitMetric(t, "openclaw_remediator_config_last_reload_successful 0")
	simtest.Eventually(t, 10*time.Second, func() error {
		for _, want := range []string{"reload failed; the previous configuration stays live", cfg, "line 10: unknown key drivr"} {
			if !strings.Contains(p.out.String(), want) {
				return fmt.Errorf("log lacks %q:\n%s", want, p.out)
			}
		}
		return nil
	})
	// The previous configuration is still live: the second target acts.
	if code, b := p.do(t, http.MethodPost, "/api/v1/alerts", cleanupAlert("second", "5e00000000000001")); code != http.StatusOK ||
		!bytes.Contains(b, []byte(`"new":1`)) {
		t.Fatalf("alert for the second target: %d %s", code, b)
	}

	// POST /-/reload: authenticated like the API, 500 with the reason on a
	// bad file, as Prometheus answers.
	if code, _ := p.doAs(t, "", http.MethodPost, "/-/reload", nil); code != http.StatusUnauthorized {
		t.Errorf("reload without the token: %d", code)
	}
	if code, b := p.do(t, http.MethodPost, "/-/reload", nil); code != http.StatusInternalServerError || !bytes.Contains(b, []byte("line 10: unknown key drivr")) {
		t.Errorf("reload of the bad file: %d %s", code, b)
	}
	if code, _ := p.do(t, http.MethodGet, "/-/reload", nil); code == http.StatusOK {
		t.Errorf("GET /-/reload answered 200")
	}

	// A good file and a new token: the reload takes both.
	write(t, cfg, one)
	write(t, tokenFile, "n3w-remediator-token\n")
	if code, b := p.do(t, http.MethodPost, "/-/reload", nil); code != http.StatusOK || string(b) != "reloaded\n" {
		t.Fatalf("reload: %d %s", code, b)
	}
	p.waitMetric(t, "openclaw_remediator_config_last_reload_successful 1")
	if code, _ := p.do(t, http.MethodGet, "/api/v1/incidents", nil); code != http.StatusUnauthorized {
		t.Errorf("the old token still works: %d", code)
	}
	if code, _ := p.doAs(t, "n3w-remediator-token", http.MethodGet, "/api/v1/incidents", nil); code != http.StatusOK {
		t.Errorf("the new token: %d", code)
	}
	// The removed target is no longer acted on.
	if code, b := p.doAs(t, "n3w-remediator-token", http.MethodPost, "/api/v1/alerts", cleanupAlert("second", "5e00000000000002")); code != http.StatusOK ||
		!bytes.Contains(b, []byte(`"noMatch":1`)) {
		t.Errorf("alert for the removed target: %d %s", code, b)
	}
}
