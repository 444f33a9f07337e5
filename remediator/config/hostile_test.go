package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/driver"
)

// target is minimal's target with extra keys written into it.
func target(keys string) string {
	return strings.Replace(minimal, "    driver:", keys+"    driver:", 1)
}

// TestHostileValues: values that can only be mistakes are refused, naming
// the key and, for numbers, the range. Every case here was accepted once
// (or refused in Go's words).
func TestHostileValues(t *testing.T) {
	kube := func(driver string) string {
		return "targets:\n  - name: k\n    driver: {kind: kubernetes, namespace: openclaw" + driver + "}\n"
	}
	docker := func(driver string) string {
		return "targets:\n  - name: c\n    driver: {kind: docker, container: gw" + driver + "}\n"
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty log dir", target("    log_dirs: [\"\"]\n"), `targets[0] (default): log_dirs[0]: empty path`},
		{"blank log dir", target("    log_dirs: [/tmp/openclaw, \" \"]\n"), `log_dirs[1]: empty path`},
		{"empty docker socket", docker(", socket: ''"), `targets[0] (c): driver: socket: empty; leave the key out for the default /var/run/docker.sock`},
		{"empty policies", minimal + "policies: []\n", "policies: an empty list matches no alert"},
		{"kubernetes claim_ttl 1ms", kube(", deployment: gw, claim_ttl: 1ms"), `targets[0] (k): driver.claim_ttl: 1ms is out of range [1s, 1h]`},
		{"kubernetes namespace", "targets:\n  - name: k\n    driver: {kind: kubernetes, namespace: ../x, deployment: gw}\n", `targets[0] (k): driver: namespace: "../x": a lowercase RFC 1123 label`},
		{"another kind's key", docker(", unit: gw.service"), `line 3: unknown key unit`},
		{"unknown kind", "targets:\n  - name: k\n    driver: {kind: nomad, job: gw}\n", `targets[0] (k): driver: kind: unknown driver "nomad" (` + strings.Join(driver.Kinds(), ", ") + ")"},
		{"kubernetes two workloads", kube(", deployment: gw, statefulset: gw"), `targets[0] (k): driver: deployment, statefulset: exactly one is required for kind kubernetes`},
		{"kubernetes workload name", kube(", deployment: Gw/x"), `targets[0] (k): driver: deployment: "Gw/x"`},
		{"workers 1e9", minimal + "workers: 1e9\n", "workers: 1000000000 is out of range [1, 256]"},
		{"workers negative", minimal + "workers: -4\n", "workers: -4 is out of range [1, 256]"},
		{"body limit 100GiB", minimal + "webhook_body_limit: 100GiB\n", "webhook_body_limit: 100GiB is out of range [1KiB, 256MiB]"},
		{"body limit 1 byte", minimal + "webhook_body_limit: 1\n", "webhook_body_limit: 1B is out of range [1KiB, 256MiB]"},
		{"max attempts 1e12", minimal + "limits: {max_attempts: 1e12}\n", "limits.max_attempts: 1000000000000 is out of range [1, 100]"},
		{"log lines 1e9", minimal + "diagnostics: {log_lines: 1e9}\n", "diagnostics.log_lines: 1000000000 is out of range [1, 100000]"},
		{"snapshots 1e9", minimal + "diagnostics: {max_snapshots: 1e9}\n", "diagnostics.max_snapshots: 1000000000 is out of range [1, 10000]"},
		{"retention 100y", minimal + "journal: {retention: 100y}\n", "journal.retention: 100y is out of range [1d, 2y]"},
		{"cooldown 1000d", minimal + "limits: {cooldown: 1000d}\n", "limits.cooldown: 1000d is out of range [1ms, 1w]"},
		{"window 1y", minimal + "limits: {window: 1y}\n", "limits.window: 1y is out of range [1ms, 30d]"},
		{"quiet period 1y", minimal + "limits: {circuit_quiet_period: 1y}\n", "limits.circuit_quiet_period: 1y is out of range [0s, 30d]"},
		{"retry delay 1000000h", minimal + "limits: {retry_delay: 1000000h}\n", "limits.retry_delay: 41666d16h is out of range [1ms, 1d]"},
		{"approval 1y", minimal + "approval: {timeout: 1y}\n", "approval.timeout: 1y is out of range [1ms, 30d]"},
		{"notify timeout 1h", minimal + "notify: {url: http://127.0.0.1:8080/hook, timeout: 1h}\n", "notify.timeout: 1h is out of range [1ms, 5m]"},
		{"notify port 0", minimal + "notify: {url: http://127.0.0.1:0/hook}\n", `notify: url: "http://127.0.0.1:0/hook": port 0 is out of range [1, 65535]`},
		{"observe 1y", minimal + "upgrade: {observe: 1y}\n", "upgrade.observe: 1y is out of range [1ms, 1d]"},
		{"observe interval 2h", minimal + "upgrade: {observe_interval: 2h}\n", "upgrade.observe_interval: 2h is out of range [1ms, 1h]"},
		{"observe interval past observe", minimal + "upgrade: {observe: 1m, observe_interval: 2m}\n", "upgrade: observe_interval: 2m is longer than observe 1m"},
		{"settle 1y", minimal + "upgrade: {settle: 1y}\n", "upgrade.settle: 1y is out of range [1ms, 1d]"},
		{"stop timeout 1000h", target("    stop_timeout: 1000h\n"), "targets[0] (default): stop_timeout: 41d16h is out of range [1ms, 1h]"},
		{"verify timeout 1000h", target("    verify: {timeout: 1000h}\n"), "targets[0] (default): verify.timeout: 41d16h is out of range [1ms, 1h]"},
		{"verify interval past timeout", target("    verify: {timeout: 5s, interval: 10s}\n"), "targets[0] (default): verify.interval: 10s is longer than verify.timeout 5s"},
		{"verify interval 1h", target("    verify: {interval: 1h}\n"), "verify.interval: 1h is out of range [1ms, 1m]"},
		{"log max age 100y", target("    log_retention: {max_age: 100y}\n"), "log_retention.max_age: 100y is out of range [1ms, 10y]"},
		{"log budget 1EiB", target("    log_retention: {max_total_bytes: 1EiB}\n"), "log_retention.max_total_bytes: 1EiB is out of range [1B, 16TiB]"},
		{"backup keep 1e6", target("    backup: {dir: /var/backups/oc, keep: 1000000}\n"), "backup.keep: 1000000 is out of range [1, 1000]"},
		{"uid 2^40", target("    uid: 1099511627776\n"), "targets[0] (default): uid: 1099511627776 is out of range [0, 4294967294]"},
		{"uid 2^32-1", target("    uid: 4294967295\n"), "uid: 4294967295 is out of range [0, 4294967294]"},
		{"uid negative", target("    uid: -1\n"), "uid: -1 is out of range [0, 4294967294]"},
		{"url port 0", target("    url: http://127.0.0.1:0\n"), `targets[0] (default): url: "http://127.0.0.1:0": port 0 is out of range [1, 65535]`},
		{"url port 99999", target("    url: http://127.0.0.1:99999\n"), `url: "http://127.0.0.1:99999": port 99999 is out of range [1, 65535]`},
		// Already refused, and refused in the file's words.
		{"zero duration", target("    stop_timeout: 0s\n"), "stop_timeout: 0s is out of range [1ms, 1h]; leave the key out for the default"},
		{"negative duration", target("    stop_timeout: -5s\n"), `line 4: not a valid duration string: "-5s"`},
		{"words for a size", target("    log_retention: {max_total_bytes: lots}\n"), `line 4: size "lots"`},
		{"unknown key", minimal + "wrokers: 4\n", "line 5: unknown key wrokers"},
		{"unknown key in a target", target("    stop_timout: 5s\n"), "line 4: unknown key stop_timout"},
		{"repeated key", minimal + "workers: 2\nworkers: 3\n", `line 6: key "workers" is written twice`},
		{"words for a number", minimal + "workers: many\n", `line 5: cannot read "many" as a whole number`},
		{"number past int64", minimal + "workers: 1e30\n", "line 5: cannot read 1e30 as a whole number"},
		{"list for a section", minimal + "limits: [1]\n", "line 5: cannot read a list as a mapping"},
		{"scalar for a list", minimal + "policies: x\n", `line 5: cannot read "x" as a list`},
		{"scalar for an argv", "targets:\n  - name: a\n    driver: {kind: process, start: openclaw}\n", `line 3: cannot read "openclaw" as a list`},
		{"list for a driver", "targets:\n  - name: a\n    driver: [process]\n", "line 3: cannot read a list as a mapping"},
		{"unknown key in http_config", target("    http_config: {bearer: x}\n"), "unknown key bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.yaml), t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if goism.MatchString(err.Error()) {
				t.Errorf("%v: names a Go type", err)
			}
		})
	}
}

// goism is what yaml says of Go types, which the file's author never wrote.
var goism = regexp.MustCompile(`\b(config|model|yaml)\.[A-Za-z]|\btype \S|\bplain\b|!!|unmarshal|\bint(64)?\b|\[\]string|map\[`)

// TestShippedConfigsLoad: the configuration the compose stack ships loads.
func TestShippedConfigsLoad(t *testing.T) {
	if _, err := load(filepath.Join("..", "..", "deploy", "compose", "remediator.yml")); err != nil {
		t.Fatal(err)
	}
}

// TestRangesInDocs: docs/configuration.md states every range the code
// enforces, and no other.
func TestRangesInDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## openclaw-remediator")
	documented := docRanges(section)
	for _, r := range Ranges() {
		switch got, ok := documented[r.Path()]; {
		case !ok:
			t.Errorf("%s: range %s is not in docs/configuration.md", r.Path(), r.Bounds())
		case got != r.Bounds():
			t.Errorf("%s: docs/configuration.md says %s, the code %s", r.Path(), got, r.Bounds())
		}
		delete(documented, r.Path())
	}
	for k, v := range documented {
		t.Errorf("docs/configuration.md gives %s the range %s, which the code does not know", k, v)
	}
	if len(Ranges()) < 20 {
		t.Fatalf("only %d ranges", len(Ranges()))
	}
}

// docRanges reads the rows "| `key` | `[min, max]` | …" of a markdown text.
func docRanges(md string) map[string]string {
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| `(\\[[^`]*\\])` \\|")
	out := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(md, -1) {
		out[m[1]] = m[2]
	}
	return out
}
