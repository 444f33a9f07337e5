package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHostileValues: values that can only be mistakes are refused, naming
// the key and, for numbers, the range. Every case here was accepted once
// (or refused in Go's words).
func TestHostileValues(t *testing.T) {
	const gw = "gateways:\n  - name: a\n"
	const model = gw + "    models:\n      - name: q\n        url: http://127.0.0.1:8080\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"collector timeout 1000000h", gw + "collector_timeout: 1000000h\n", "collector_timeout: 41666d16h is out of range [1ms, 1h]"},
		{"probe interval 100000h", gw + "    probe_interval: 100000h\n", "gateways[0] (a): probe_interval: 4166d16h is out of range [1ms, 1h]"},
		{"probe timeout 2h", gw + "    probe_timeout: 2h\n", "probe_timeout: 2h is out of range [1ms, 1h]"},
		{"version interval 1y", gw + "    version_interval: 1y\n", "version_interval: 1y is out of range [1ms, 1w]"},
		{"rpc interval 1y", gw + "    rpc_interval: 1y\n", "rpc_interval: 1y is out of range [1ms, 1h]"},
		{"memory limit 1e18", gw + "    memory_limit_bytes: 1e18\n", "memory_limit_bytes: 1000000000000000000 is out of range [0, 1125899906842624]"},
		{"memory limit negative", gw + "    memory_limit_bytes: -1\n", "memory_limit_bytes: -1 is out of range [0, 1125899906842624]"},
		{"uid 2^40", gw + "    uid: 1099511627776\n", "gateways[0] (a): uid: 1099511627776 is out of range [0, 4294967294]"},
		{"uid 2^32-1", gw + "    uid: 4294967295\n", "uid: 4294967295 is out of range [0, 4294967294]"},
		{"url port 0", gw + "    url: http://127.0.0.1:0\n", `gateways[0] (a): url: "http://127.0.0.1:0": port 0 is out of range [1, 65535]`},
		{"url port 99999", gw + "    url: http://127.0.0.1:99999\n", `url: "http://127.0.0.1:99999": port 99999 is out of range [1, 65535]`},
		{"model url port 99999", gw + "    models:\n      - name: q\n        url: http://127.0.0.1:99999\n", `models[0].url: "http://127.0.0.1:99999": port 99999 is out of range [1, 65535]`},
		{"health interval 1y", model + "        health_interval: 1y\n", "models[0].health_interval: 1y is out of range [1ms, 1d]"},
		{"suite interval 1y", model + "        suites: [{name: s, interval: 1y}]\n", "models[0].suites[0].interval: 1y is out of range [1ms, 1w]"},
		{"suite timeout 1000h", model + "        suites: [{name: s, timeout: 1000h}]\n", "models[0].suites[0].timeout: 41d16h is out of range [1ms, 1h]"},
		{"suite retries 1e9", model + "        suites: [{name: s, retries: 1e9}]\n", "models[0].suites[0].retries: 1000000000 is out of range [0, 10]"},
		// Already refused, and refused in the file's words.
		{"zero interval", gw + "    rpc_interval: 0s\n", "rpc_interval: 0s is out of range [1ms, 1h]; leave the key out for the default"},
		{"negative duration", gw + "    probe_interval: -5s\n", `line 3: not a valid duration string: "-5s"`},
		{"unknown key", gw + "    probe_intervall: 5s\n", "line 3: unknown key probe_intervall"},
		{"unknown key in tls_config", gw + "    tls_config: {cafile: x}\n", "line 3: unknown key cafile"},
		{"repeated key", gw + "    url: http://127.0.0.1:1\n    url: http://127.0.0.1:2\n", `line 4: key "url" is written twice`},
		{"words for a number", gw + "    memory_limit_bytes: 2GiB\n", `line 3: cannot read "2GiB" as a whole number`},
		{"scalar for a list", "gateways: default\n", `line 1: cannot read "default" as a list`},
		{"list for a gateway", "gateways: [[a]]\n", "line 1: cannot read a list as a mapping"},
		{"scalar for a pattern list", gw + "log_patterns: [{name: x, contains: EMFILE}]\n", `line 3: cannot read "EMFILE" as a list`},
		{"words for retries", model + "        suites: [{name: s, retries: some}]\n", `line 6: cannot read "some" as a whole number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), t.TempDir())
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

// TestShippedConfigsLoad: the configuration the compose stack ships and the
// examples in docs/configuration.md load (the example's token file aside,
// which this machine does not have).
func TestShippedConfigsLoad(t *testing.T) {
	if _, err := Load(filepath.Join("..", "..", "deploy", "compose", "exporter.yml")); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	section, _, _ := strings.Cut(string(doc), "## openclaw-gatewaysim")
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 2 {
		t.Fatalf("%d yaml examples in the exporter's section, want the file and the reasoning probe", len(blocks))
	}
	noSecrets := regexp.MustCompile(`(?m)^\s*(token_file|api_key_file|ca_file):.*$`)
	for i, b := range blocks {
		if _, err := Parse([]byte(noSecrets.ReplaceAllString(b[1], "")), t.TempDir()); err != nil {
			t.Errorf("example %d: %v", i, err)
		}
	}
}

// TestRangesInDocs: docs/configuration.md states every range the code
// enforces, and no other.
func TestRangesInDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## openclaw-exporter")
	section, _, _ = strings.Cut(section, "## openclaw-gatewaysim")
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| `(\\[[^`]*\\])` \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		documented[m[1]] = m[2]
	}
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
	if len(Ranges()) < 10 {
		t.Fatalf("only %d ranges", len(Ranges()))
	}
}
