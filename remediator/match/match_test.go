package match

import (
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/actions"

	"github.com/clawwatch/clawwatch/remediator/config"
)

func load(t *testing.T, y string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(y), t.TempDir(), actions.ConfigSpecs())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const twoTargets = `
targets:
  - name: default
    driver: {kind: process, start: [openclaw, gateway, run]}
  - name: gpu-box
    driver: {kind: systemd, unit: openclaw-gateway.service}
`

func TestDefaultPolicy(t *testing.T) {
	c := load(t, twoTargets)
	for _, tc := range []struct {
		name     string
		labels   map[string]string
		action   string
		target   string
		approval bool
		reason   string
	}{
		{"restart", map[string]string{"remediation": "restart", "gateway": "default"}, "restart", "default", false, ""},
		{"cleanup_logs on the other target", map[string]string{"remediation": "cleanup_logs", "gateway": "gpu-box"}, "cleanup_logs", "gpu-box", false, ""},
		{"rollback waits for a human", map[string]string{"remediation": "rollback", "gateway": "default"}, "rollback", "default", true, ""},
		{"none", map[string]string{"remediation": "none", "gateway": "default"}, "", "", false, "no policy"},
		{"no action label", map[string]string{"gateway": "default"}, "", "", false, "no policy"},
		{"exec is never taken from a label", map[string]string{"remediation": "exec", "gateway": "default"}, "", "", false, "no policy"},
		{"no target label", map[string]string{"remediation": "restart"}, "", "", false, "no gateway label"},
		{"unknown target", map[string]string{"remediation": "restart", "gateway": "elsewhere"}, "", "", false, `target "elsewhere" is not configured`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Match(c, tc.labels)
			if r.Action != tc.action || r.Target != tc.target || r.Approval != tc.approval || r.Matched != (tc.reason == "") {
				t.Fatalf("got %+v", r)
			}
			if !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", r.Reason, tc.reason)
			}
		})
	}
}

// Alert labels are attacker-shaped: anyone who can post to Alertmanager
// chooses them. None may select something that is not configured.
func TestHostileLabels(t *testing.T) {
	c := load(t, twoTargets+`
policies:
  - name: exec_notes
    matchers: ['alertname="Note"']
    action: exec
    exec: [/usr/bin/logger, -t, openclaw]
  - name: by_label
    matchers: ['remediation=~".+"']
`)
	huge := strings.Repeat("A", 1<<20)
	for _, tc := range []struct {
		name   string
		labels map[string]string
	}{
		{"shell metacharacters in target", map[string]string{"remediation": "restart", "gateway": "default; rm -rf / #"}},
		{"command substitution", map[string]string{"remediation": "restart", "gateway": "$(reboot)"}},
		{"backticks in action", map[string]string{"remediation": "`id`", "gateway": "default"}},
		{"path traversal target", map[string]string{"remediation": "cleanup_logs", "gateway": "../../etc"}},
		{"absolute path target", map[string]string{"remediation": "cleanup_logs", "gateway": "/var/log"}},
		{"NUL in target", map[string]string{"remediation": "restart", "gateway": "default\x00"}},
		{"NUL in action", map[string]string{"remediation": "restart\x00", "gateway": "default"}},
		{"huge target", map[string]string{"remediation": "restart", "gateway": huge}},
		{"huge action", map[string]string{"remediation": huge, "gateway": "default"}},
		{"non-ASCII label names", map[string]string{"remédiation": "restart", "ゲートウェイ": "default"}},
		{"look-alike target", map[string]string{"remediation": "restart", "gateway": "dеfault"}}, // Cyrillic е
		{"case-folded target", map[string]string{"remediation": "restart", "gateway": "DEFAULT"}},
		{"unknown target", map[string]string{"remediation": "restart", "gateway": "not-configured"}},
		{"unknown action", map[string]string{"remediation": "format_disk", "gateway": "default"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Match(c, tc.labels)
			if r.Matched {
				t.Fatalf("matched %+v", r)
			}
			if len(r.Reason) > 200 {
				t.Errorf("reason of %d bytes repeats the hostile value", len(r.Reason))
			}
			if strings.ContainsRune(r.Reason, 0) {
				t.Error("reason carries a raw NUL")
			}
		})
	}
	// The exec policy's argv is the operator's, whatever the labels say.
	r := Match(c, map[string]string{"alertname": "Note", "gateway": "default", "remediation": "restart; id"})
	if !r.Matched || r.Action != "exec" || strings.Join(r.Exec, " ") != "/usr/bin/logger -t openclaw" {
		t.Fatalf("exec policy: %+v", r)
	}
}

func TestFirstPolicyWins(t *testing.T) {
	c := load(t, twoTargets+`
dry_run: false
policies:
  - name: critical_dry
    matchers: ['{severity="critical", alertname=~"OpenClaw.+"}']
    dry_run: true
  - name: rest
    matchers: ['remediation!=""']
`)
	r := Match(c, map[string]string{"severity": "critical", "alertname": "OpenClawGatewayDown", "remediation": "restart", "gateway": "default"})
	if r.Policy != "critical_dry" || !r.DryRun || !r.Verify {
		t.Fatalf("%+v", r)
	}
	r = Match(c, map[string]string{"severity": "warning", "alertname": "OpenClawGatewayDown", "remediation": "restart", "gateway": "default"})
	if r.Policy != "rest" || r.DryRun {
		t.Fatalf("%+v", r)
	}
}

func FuzzParseMatchers(f *testing.F) {
	for _, s := range []string{`a="b"`, `{a=~"x.*", b!="c"}`, `alertname!~"^(a|b)$"`, `{}`, `"quoted name"="v"`, `a=`, `{a="\u0000"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := config.ParseMatchers(s)
		if err != nil {
			return
		}
		if len(ms) == 0 {
			t.Fatal("accepted an empty matcher list")
		}
		for _, m := range ms {
			_ = m.Matches("")
			_ = m.Matches(s)
			// What was parsed prints back into something that parses.
			if _, err := config.ParseMatchers(m.String()); err != nil {
				t.Fatalf("%q parsed to %q, which does not parse: %v", s, m.String(), err)
			}
		}
	})
}
