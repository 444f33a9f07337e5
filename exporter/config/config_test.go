package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFullConfig(t *testing.T) {
	home, _ := os.UserHomeDir()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gateway.token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(`
gateways:
  - name: default
    url: http://127.0.0.1:18789/
    token_file: gateway.token
    state_dir: ~/.openclaw
    log_dir: /tmp/openclaw
  - name: lab
    url: https://lab.example:8443
    probe_interval: 10s
    probe_timeout: 2s
    memory_limit_bytes: 2147483648
    log_profile: lab
log_patterns:
  - name: oom
    contains: ["heap out of memory"]
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	d, lab := c.Gateways[0], c.Gateways[1]
	if d.URL != "http://127.0.0.1:18789" || d.Port() != 18789 || d.TokenFile != filepath.Join(dir, "gateway.token") ||
		d.StateDir != filepath.Join(home, ".openclaw") || time.Duration(d.ProbeInterval) != 5*time.Second || time.Duration(d.ProbeTimeout) != 3*time.Second {
		t.Errorf("default gateway = %+v", d)
	}
	if lab.Port() != 8443 || time.Duration(lab.ProbeTimeout) != 2*time.Second || lab.MemoryLimitBytes != 2<<30 || lab.LogDir != "/tmp/openclaw" {
		t.Errorf("lab gateway = %+v", lab)
	}
	if d.Token() != "s3cret" || d.RPCAddr() != "127.0.0.1:18789" || time.Duration(d.RPCInterval) != 15*time.Second {
		t.Errorf("RPC probe: token %q, address %q, interval %s", d.Token(), d.RPCAddr(), d.RPCInterval)
	}
	if lab.Token() != "" || lab.RPCAddr() != "lab.example:8443" {
		t.Errorf("lab RPC probe: token %q, address %q", lab.Token(), lab.RPCAddr())
	}
	if hc := d.HTTPClientConfig(); hc.Authorization == nil || hc.Authorization.CredentialsFile != filepath.Join(dir, "gateway.token") {
		t.Errorf("http client config = %+v", hc)
	}
	if len(c.LogPatterns) != 1 || c.LogPatterns[0].Name != "oom" {
		t.Errorf("patterns = %+v", c.LogPatterns)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if len(c.Gateways) != 1 || c.Gateways[0].URL != DefaultURL || c.Gateways[0].Port() != 18789 || len(c.LogPatterns) != len(DefaultLogPatterns) {
		t.Fatalf("default = %+v", c)
	}
}

// TestDefaultsWhenDecoding: a key left out keeps its default, the file's
// and every gateway's, as in the configuration without a file.
func TestDefaultsWhenDecoding(t *testing.T) {
	c, err := Parse([]byte("gateways:\n  - name: a\n  - name: b\n    rpc_interval: 1m\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	want := *def.Gateways[0]
	for i, g := range c.Gateways {
		if g.URL != want.URL || g.StateDir != want.StateDir || g.LogDir != want.LogDir || g.ProbeInterval != want.ProbeInterval ||
			g.ProbeTimeout != want.ProbeTimeout || g.VersionInterval != want.VersionInterval || g.Port() != 18789 {
			t.Errorf("gateways[%d] = %+v, want the defaults %+v", i, g, want)
		}
	}
	if c.Gateways[0].RPCInterval != DefaultRPCInterval || time.Duration(c.Gateways[1].RPCInterval) != time.Minute {
		t.Errorf("rpc_interval: %s and %s", c.Gateways[0].RPCInterval, c.Gateways[1].RPCInterval)
	}
	if c.CollectorTimeout != DefaultCollectorTimeout || len(c.LogPatterns) != len(DefaultLogPatterns) {
		t.Errorf("collector_timeout %s, %d log patterns", c.CollectorTimeout, len(c.LogPatterns))
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"gateways:\n  - name: a\n    urll: http://x\n", "line 3: unknown key urll"},
		{"gatewayz: []\n", "line 1: unknown key gatewayz"},
		{"gateways: []\n", "at least one gateway"},
		{"gateways:\n  - url: http://x\n", "gateways[0] (): name: required"},
		{"gateways:\n  - name: a\n    url: ftp://x\n", "url: \"ftp://x\" is not an http(s) URL"},
		{"gateways:\n  - name: a\n  - name: a\n", "name \"a\" is used twice"},
		{"gateways:\n  - name: a\n    probe_interval: 1s\n    probe_timeout: 2s\n", "probe_timeout: 2s is longer than probe_interval 1s"},
		{"gateways:\n  - name: a\n    probe_interval: soon\n", "not a valid duration"},
		{"gateways:\n  - name: a\n    memory_limit_bytes: -1\n", "memory_limit_bytes"},
		{"gateways:\n  - name: a\nlog_patterns:\n  - name: Bad Name\n    contains: [x]\n", "log_patterns[0]: name \"Bad Name\""},
		{"gateways:\n  - name: a\nlog_patterns:\n  - name: x\n", "contains: at least one"},
		{"gateways:\n  - name: a\nlog_patterns: []\n", "log_patterns: an empty list counts no line"},
		{"gateways:\n  - name: a\n    tls_config:\n      cert_file: c.pem\n", "key_file"},
		{"gateways:\n  - name: a\n    token_file: /nonexistent/gateway.token\n", "gateways[0] (a): token_file: open /nonexistent/gateway.token"},
		{"gateways:\n  - name: a\n    token_file: /dev/null\n", "token_file: /dev/null: empty"},
		{"gateways:\n  - name: a\n    probe_interval: 0s\n", "gateways[0] (a): probe_interval: 0s is out of range [1ms, 1h]; leave the key out for the default"},
		{"collector_timeout: 0s\ngateways:\n  - name: a\n", "collector_timeout: 0s is out of range [1ms, 1h]"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exporter.yml")
	if err := os.WriteFile(path, []byte("gateways:\n  - name: a\n    bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("gateways:\n  - name: default\n"))
	f.Add([]byte("gateways:\n  - name: a\n    url: http://[::1]:1/\n    probe_interval: 1m\nlog_patterns: [{name: x, contains: [\"a\\\"b\"]}]\n"))
	f.Add([]byte("gateways: [{name: a, tls_config: {insecure_skip_verify: true}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "/etc")
		if err != nil {
			return
		}
		// Whatever parses is fully validated and usable.
		if len(c.Gateways) == 0 || len(c.LogPatterns) == 0 {
			t.Fatalf("accepted an unusable config: %+v", c)
		}
		for _, g := range c.Gateways {
			if g.Name == "" || g.Port() <= 0 || g.ProbeTimeout > g.ProbeInterval || g.ProbeInterval <= 0 {
				t.Fatalf("accepted gateway %+v", g)
			}
		}
	})
}
