package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const minimal = `
targets:
  - name: default
    driver: {kind: process, start: [openclaw, gateway, run, --port, "18789", --bind, loopback]}
`

func TestDefaults(t *testing.T) {
	c, err := parse([]byte(minimal), "/etc/clawwatch")
	if err != nil {
		t.Fatal(err)
	}
	tg := c.Targets[0]
	if c.TargetLabel != "gateway" || c.ActionLabel != "remediation" || c.Workers != 4 ||
		c.Limits.MaxAttempts != 3 || time.Duration(c.Limits.Window) != time.Hour ||
		tg.URL != DefaultTargetURL || tg.Port() != 18789 || time.Duration(tg.StopTimeout) != 30*time.Second ||
		c.Journal.Path != "/etc/clawwatch/data/remediator.db" || len(c.Policies) != 3 || !c.Policies[0].Approval ||
		c.Policies[1].Quiet == nil || c.Policies[1].Quiet.Then != QuietThenApproval || time.Duration(c.Policies[1].Quiet.Within) != 2*time.Hour {
		t.Fatalf("defaults: %+v %+v", c, tg)
	}
}

// TestDefaultsWhenDecoding: a block written in part keeps the defaults of
// the keys it leaves out; a count or duration written as 0 is refused, since
// 0 never meant "none" (left out is the default).
func TestDefaultsWhenDecoding(t *testing.T) {
	c, err := parse([]byte(minimal+"journal: {retention: 48h}\nlimits: {max_attempts: 5}\nnotify: {url: http://127.0.0.1:1/hook}\n"), "/etc/clawwatch")
	if err != nil {
		t.Fatal(err)
	}
	tg := c.Targets[0]
	if c.Journal.Path != "/etc/clawwatch/data/remediator.db" || time.Duration(c.Journal.Retention) != 48*time.Hour ||
		c.Limits.MaxAttempts != 5 || c.Limits.Cooldown != DefaultCooldown || c.Limits.RetryDelay != DefaultRetryDelay ||
		*c.Limits.QuietPeriod != DefaultQuietPeriod || c.Notify.Timeout != DefaultNotifyTime ||
		c.Diagnostics.Dir != "/etc/clawwatch/data/diagnostics" || c.Diagnostics.LogLines != DefaultLogTailLines {
		t.Errorf("defaults beside written keys: %+v", c)
	}
	if tg.Verify.Interval != DefaultVerifyEvery || tg.Logs.MaxTotalBytes != DefaultLogBudget || tg.Rollback.VersionRegexp() == nil ||
		len(tg.LogDirs) != 1 || tg.LogDirs[0] != "/tmp/openclaw" || !strings.HasSuffix(tg.StateDir, "/.openclaw") {
		t.Errorf("target defaults: %+v", tg)
	}
	quiet, err := parse([]byte(minimal+"limits: {circuit_quiet_period: 0s}\n"), "")
	if err != nil || *quiet.Limits.QuietPeriod != 0 {
		t.Errorf("circuit_quiet_period: 0s must keep the circuit open until a reset: %v", err)
	}
	for _, zero := range []string{"workers: 0\n", "limits: {cooldown: 0s}\n", "diagnostics: {log_lines: 0}\n", "action_label: ''\n"} {
		if _, err := parse([]byte(minimal+zero), ""); err == nil || !strings.Contains(err.Error(), "leave the key out for the default") {
			t.Errorf("%q: %v, want a refusal", zero, err)
		}
	}
	if _, err := parse([]byte(strings.Replace(minimal, "driver:", "verify: {interval: 0s}\n    driver:", 1)), ""); err == nil ||
		!strings.Contains(err.Error(), "targets[0] (default): verify.interval: 0s is out of range [1ms, 1m]") {
		t.Errorf("verify.interval 0s: %v", err)
	}
}

// TestTargetToken: the token is read at load, relative to the file; the RPC
// address is the URL's host and port.
func TestTargetToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gateway.token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse([]byte(strings.Replace(minimal, "driver:", "url: http://[::1]:18800/\n    token_file: gateway.token\n    driver:", 1)), dir)
	if err != nil {
		t.Fatal(err)
	}
	tg := c.Targets[0]
	if tg.Token() != "s3cret" || tg.TokenFile != filepath.Join(dir, "gateway.token") || tg.RPCAddr() != "[::1]:18800" {
		t.Fatalf("token %q from %q, RPC address %q", tg.Token(), tg.TokenFile, tg.RPCAddr())
	}
	c, err = parse([]byte(minimal), dir)
	if err != nil || c.Targets[0].Token() != "" || c.Targets[0].RPCAddr() != "127.0.0.1:18789" {
		t.Fatalf("without token_file: %v %q %q", err, c.Targets[0].Token(), c.Targets[0].RPCAddr())
	}
}

func TestExampleConfigInDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## openclaw-remediator")
	if !ok {
		t.Skip("docs/configuration.md has no remediator section yet")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	if !ok {
		t.Fatal("no yaml block in the remediator section")
	}
	if _, err := parse([]byte(block), t.TempDir()); err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key with line", minimal + "  - name: x\n    drivr: {}\n", "line 6: unknown key drivr"},
		{"no targets", "workers: 2\n", "targets: at least one"},
		{"bad driver", strings.Replace(minimal, "kind: process", "kind: ssh", 1), `unknown driver "ssh"`},
		{"process without argv", "targets:\n  - name: a\n    driver: {kind: process}\n", "start: required"},
		{"bad target name", strings.Replace(minimal, "name: default", "name: ../x", 1), "name:"},
		{"duplicate target", minimal + "  - name: default\n    driver: {kind: systemd, unit: a.service}\n", "used twice"},
		{"systemd unit with option", "targets:\n  - name: a\n    driver: {kind: systemd, unit: --now}\n", "unit:"},
		{"docker container with path", "targets:\n  - name: a\n    driver: {kind: docker, container: ../x}\n", "container:"},
		{"bad matcher", minimal + "policies:\n  - name: p\n    matchers: ['a=~\"(\"']\n", "policies[0] (p): matchers[0]"},
		{"empty matcher", minimal + "policies:\n  - name: p\n    matchers: ['{}']\n", "no matcher"},
		{"unknown action", minimal + "policies:\n  - name: p\n    matchers: ['a=\"b\"']\n    action: reboot\n", `unknown action "reboot"`},
		{"exec without argv", minimal + "policies:\n  - name: p\n    matchers: ['a=\"b\"']\n    action: exec\n", "exec: an argv"},
		{"short retention", minimal + "journal: {retention: 1h}\n", "shorter than 24h"},
		{"unanchored version pattern", strings.Replace(minimal, "driver:", "rollback: {version_pattern: '[0-9.]+'}\n    driver:", 1), "anchored"},
		{"rollback without version", strings.Replace(minimal, "driver:", "rollback: {command: [openclaw, update]}\n    driver:", 1), "{version}"},
		{"backup keep 0", strings.Replace(minimal, "driver:", "backup: {dir: /var/backups/oc, keep: 0}\n    driver:", 1), "targets[0] (default): backup.keep: 0 is out of range [1, 1000]"},
		{"backup restore without target", strings.Replace(minimal, "driver:", "backup: {dir: /var/backups/oc, restore: [openclaw, backup, restore, '{archive}']}\n    driver:", 1), "backup: restore: no argument contains {target}"},
		{"backup root dir", strings.Replace(minimal, "driver:", "backup: {dir: /}\n    driver:", 1), "backup: dir: refusing the root"},
		{"bad size", strings.Replace(minimal, "driver:", "log_retention: {max_total_bytes: lots}\n    driver:", 1), `size "lots"`},
		{"root log dir", strings.Replace(minimal, "driver:", "log_dirs: [/]\n    driver:", 1), "root directory"},
		{"notify without url", minimal + "notify: {url: ftp://x}\n", "notify: url"},
		{"missing token file", strings.Replace(minimal, "driver:", "token_file: missing.token\n    driver:", 1), "targets[0] (default): token_file: open "},
		{"empty token file", strings.Replace(minimal, "driver:", "token_file: /dev/null\n    driver:", 1), "token_file: /dev/null: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.yaml), t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// Backups are off until a dir is set; then the defaults are OpenClaw's own
// commands and a relative dir is read from the configuration's directory.
func TestBackupDefaults(t *testing.T) {
	c, err := parse([]byte(minimal), "/etc/clawwatch")
	if err != nil || c.Targets[0].Backup.Dir != "" {
		t.Fatalf("%v %+v", err, c.Targets[0].Backup)
	}
	c, err = parse([]byte(strings.Replace(minimal, "driver:", "backup: {dir: backups}\n    update: {stop: true}\n    driver:", 1)), "/etc/clawwatch")
	if err != nil {
		t.Fatal(err)
	}
	b := c.Targets[0].Backup
	if b.Dir != "/etc/clawwatch/backups" || b.Keep != DefaultBackupKeep || !slices.Equal(b.Command, DefaultBackupCommand) ||
		!slices.Equal(b.Restore, DefaultRestoreCommand) || !c.Targets[0].Update.Stop {
		t.Fatalf("%+v %+v", b, c.Targets[0].Update)
	}
}

// Kept packages are off until a package dir is set; the keep dir defaults
// beside the backups, and the two directories may not contain each other.
func TestPackageKeep(t *testing.T) {
	with := func(p string) []byte { return []byte(strings.Replace(minimal, "driver:", p+"\n    driver:", 1)) }
	c, err := parse(with("backup: {dir: backups}\n    package: {dir: /opt/oc/lib/node_modules/openclaw}"), "/etc/clawwatch")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Targets[0].Package; p.KeepDir != "/etc/clawwatch/backups/packages" || p.Keep != DefaultPackageKeep {
		t.Fatalf("%+v", p)
	}
	for p, want := range map[string]string{
		"package: {dir: /opt/oc}":                         "package: keep_dir: required",
		"package: {dir: /, keep_dir: /k}":                 "package: dir: refusing the root directory",
		"package: {dir: /opt/oc, keep_dir: /opt/oc/kept}": "must not contain each other",
		"package: {dir: /opt/oc/pkg, keep_dir: /opt}":     "must not contain each other",
		"package: {dir: /opt/oc, keep_dir: /k, keep: 0}":  "package.keep: 0 is out of range [1, 100]",
	} {
		if _, err := parse(with(p), "/etc/clawwatch"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", p, err, want)
		}
	}
}

// Known-bad releases: the built-in advisories, and those configured.
func TestKnownBadReleases(t *testing.T) {
	c, err := parse([]byte("known_bad_releases:\n  - {version: 2026.9.5, reason: bad answers}\n  - {before: 2026.1.1, reason: old}\n"+minimal), "")
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]string{
		"2026.9.2": "releases before 2026.9.3 are known bad (advisory: ", "2026.9.3-beta.1": "before 2026.9.3",
		"2026.9.5": "2026.9.5 is a known-bad release (bad answers)", "2026.9.6": "", "2026.10.1": "", "not-a-version": "",
	} {
		k, bad := c.KnownBadRelease(v)
		if bad != (want != "") || !strings.Contains(k.String(), want) {
			t.Errorf("%s: %v %q, want %q", v, bad, k, want)
		}
	}
	for y, want := range map[string]string{
		"{reason: x}": "known_bad_releases[0]: one of version and before",
		"{version: 2026.9.5, before: 2026.9.6, reason: x}": "one of version and before",
		"{version: 2026.9.5}":                              "reason: empty",
		"{before: latest, reason: x}":                      `before: "latest" is not a calendar version`,
	} {
		if _, err := parse([]byte("known_bad_releases: ["+y+"]\n"+minimal), ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", y, err, want)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.yml")
	os.WriteFile(p, []byte("targets: [\n"), 0o600)
	if _, err := load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("%v", err)
	}
}

func TestSizes(t *testing.T) {
	c, err := parse([]byte(strings.Replace(minimal, "driver:", "log_retention: {max_total_bytes: 512MiB}\n    driver:", 1)), "")
	if err != nil || c.Targets[0].Logs.MaxTotalBytes != 512<<20 {
		t.Fatalf("%v %v", err, c)
	}
	c, err = parse([]byte(strings.Replace(minimal, "driver:", "log_retention: {max_total_bytes: 1000}\n    driver:", 1)), "")
	if err != nil || c.Targets[0].Logs.MaxTotalBytes != 1000 {
		t.Fatalf("%v %v", err, c)
	}
}

// OpenClaw's preflights and status come with OpenClaw's updater; a custom
// update command gets none unless written, and [] turns one off. Its CLI
// runs with a compile cache beside the journal unless driver.env sets one.
func TestUpdatePreflightDefaults(t *testing.T) {
	target := func(extra string) *Target {
		t.Helper()
		c, err := parse([]byte(`
targets:
  - name: default
    driver: {kind: process, start: [openclaw, gateway, run], env: [A=1`+extra), "/etc/clawwatch")
		if err != nil {
			t.Fatal(err)
		}
		return c.Targets[0]
	}
	d := target("]}\n")
	if !slices.Equal(d.Update.Preflight.DryRun, DefaultDryRunCommand) || !slices.Equal(d.Update.Preflight.Doctor, DefaultDoctorCommand) ||
		!slices.Equal(d.Update.Status, DefaultStatusCommand) {
		t.Errorf("OpenClaw's updater without its preflights: %+v", d.Update)
	}
	if want := []string{"A=1", "NODE_COMPILE_CACHE=/etc/clawwatch/data/node-compile-cache"}; !slices.Equal(d.CLIEnv(), want) {
		t.Errorf("CLIEnv %q, want %q", d.CLIEnv(), want)
	}
	custom := target("]}\n    update: {command: [npm, install, -g, 'openclaw@{version}']}\n")
	if custom.Update.Preflight.DryRun != nil || custom.Update.Preflight.Doctor != nil || custom.Update.Status != nil {
		t.Errorf("a custom update command got OpenClaw's preflights: %+v", custom.Update)
	}
	off := target(", NODE_COMPILE_CACHE=/var/cache/node]}\n    update: {preflight: {doctor: []}}\n")
	if off.Update.Preflight.Doctor == nil || len(off.Update.Preflight.Doctor) != 0 || !slices.Equal(off.Update.Preflight.DryRun, DefaultDryRunCommand) {
		t.Errorf("doctor: [] did not turn it off alone: %+v", off.Update.Preflight)
	}
	if want := []string{"A=1", "NODE_COMPILE_CACHE=/var/cache/node"}; !slices.Equal(off.CLIEnv(), want) {
		t.Errorf("CLIEnv %q, want %q", off.CLIEnv(), want)
	}
	if _, err := parse([]byte(minimal+"    update: {preflight: {dry_run: [openclaw, update, --dry-run]}}\n"), ""); err == nil ||
		!strings.Contains(err.Error(), "update.preflight.dry_run: no argument contains {version}") {
		t.Errorf("a dry run without the version: %v", err)
	}
}

// A policy's quiet block: within defaults to 2h and then to approval (the
// safe one); a bad then or a within out of range is refused, the key named.
func TestPolicyQuiet(t *testing.T) {
	c, err := parse([]byte(minimal+`
policies:
  - name: leak
    matchers: ['alertname="Leak"']
    quiet: {}
  - name: leak_act
    matchers: ['alertname="Leak2"']
    quiet: {within: 10m, then: act}
`), "/etc/clawwatch")
	if err != nil {
		t.Fatal(err)
	}
	if q := c.Policies[0].Quiet; q.Then != QuietThenApproval || q.Within != DefaultQuietWithin {
		t.Errorf("defaults: %+v", q)
	}
	if q := c.Policies[1].Quiet; q.Then != QuietThenAct || q.Every() != 5*time.Second {
		t.Errorf("written: %+v every %s", q, q.Every())
	}
	for body, want := range map[string]string{
		`{then: later}`: `policies[0] (leak): quiet.then: "later" is not "approval" or "act"`,
		`{within: 0s}`:  `policies[0] (leak): quiet.within: 0s is out of range [1ms, 1w]; leave the key out for the default`,
		`{within: 30d}`: `policies[0] (leak): quiet.within: 30d is out of range [1ms, 1w]`,
		`{whithin: 1h}`: `whithin`,
	} {
		_, err := parse([]byte(minimal+"\npolicies:\n  - name: leak\n    matchers: ['alertname=\"Leak\"']\n    quiet: "+body+"\n"), "/etc/clawwatch")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
