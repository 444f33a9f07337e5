package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseModels(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.json"), []byte(`{"tests":[{"prompt":"p","expected_keywords":["a"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(`
gateways:
  - name: default
    models:
      - name: qwen
        url: http://127.0.0.1:8080/
        model: qwen3.5-4b-distill
        api: completions
        api_key_file: model.key
        health_path: /healthz
        health_interval: 2s
        suites:
          - name: default
          - name: mine
            file: mine.json
            interval: 1h
            timeout: 90s
            retries: 0
      - name: gateway
        url: http://127.0.0.1:18789
        health_path: ""
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	ms := c.Gateways[0].Models
	q, gw := ms[0], ms[1]
	if q.URL != "http://127.0.0.1:8080" || q.Model != "qwen3.5-4b-distill" || q.API != "completions" || *q.HealthPath != "/healthz" ||
		q.HealthTimeout() != 2*time.Second || q.APIKeyFile != filepath.Join(dir, "model.key") {
		t.Errorf("qwen = %+v", q)
	}
	if hc := q.HTTPClientConfig(); hc.Authorization == nil || hc.Authorization.CredentialsFile != filepath.Join(dir, "model.key") {
		t.Errorf("client config = %+v", hc)
	}
	def, mine := q.Suites[0], q.Suites[1]
	if time.Duration(def.Interval) != 15*time.Minute || time.Duration(def.Timeout) != time.Minute || *def.Retries != 2 || len(def.Tests().Tests) < 20 {
		t.Errorf("default suite = %+v", def)
	}
	if time.Duration(mine.Interval) != time.Hour || time.Duration(mine.Timeout) != 90*time.Second || *mine.Retries != 0 || len(mine.Tests().Tests) != 1 {
		t.Errorf("mine = %+v", mine)
	}
	if gw.Model != "gateway" || gw.API != "chat" || *gw.HealthPath != "" || q.HealthTimeout() > 5*time.Second ||
		len(gw.Suites) != 1 || gw.Suites[0].Name != "default" || gw.HealthTimeout() != 5*time.Second {
		t.Errorf("gateway model = %+v", gw)
	}
	if len(Default().Gateways[0].Models) != 0 {
		t.Error("the default configuration runs no suite: no model endpoint is known")
	}
}

func TestModelErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"tests":[{"prompt":"p","expected_keywords":["a"],"weight":-1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	const head = "gateways:\n  - name: gw\n    models:\n"
	cases := []struct{ yaml, want string }{
		{"      - name: q\n        urll: http://x\n", "line 5: unknown key urll"},
		{"      - name: q\n        url: http://x\n        suites:\n          - name: s\n            intervall: 1m\n", "line 8: unknown key intervall"},
		{"      - url: http://x\n", `gateways[0] (gw): models[0].name: "" must match`},
		{"      - name: q\n", `gateways[0] (gw): models[0].url: "" is not an http(s) URL`},
		{"      - name: q\n        url: http://x?a=b\n", "models[0].url: \"http://x?a=b\": a base URL takes no query"},
		{"      - name: q\n        url: http://x\n      - name: q\n        url: http://y\n", `models[1].name: "q" is already the name of models[0]`},
		{"      - name: q\n        url: http://x\n        api: grpc\n", `models[0].api: "grpc" is not chat or completions`},
		{"      - name: q\n        url: http://x\n        health_path: health\n", `models[0].health_path: "health" must start with /`},
		{"      - name: q\n        url: http://x\n        tls_config:\n          cert_file: c.pem\n", "key_file"},
		{"      - name: q\n        url: http://x\n        health_interval: soon\n", "not a valid duration"},
		{"      - name: a\n        url: http://x\n      - name: q\n        url: http://x\n        suites:\n          - name: s\n          - name: t\n            interval: 0s\n          - name: s\n",
			`gateways[0] (gw): models[1].suites[2].name: "s" is already the name of suites[0]`},
		{"      - name: q\n        url: http://x\n        suites:\n          - name: s\n            retries: -1\n", "models[0].suites[0].retries: -1 is out of range [0, 10]"},
		{"      - name: q\n        url: http://x\n        suites:\n          - name: s\n            file: missing.json\n", "models[0].suites[0].file: read suite: open " + filepath.Join(dir, "missing.json")},
		{"      - name: q\n        url: http://x\n        suites:\n          - name: s\n            file: bad.json\n", "models[0].suites[0].file: suite " + filepath.Join(dir, "bad.json") + ": tests[0].weight: -1 must be a positive number"},
		{"      - name: q\n        url: http://x\n        suites:\n          - {}\n", `models[0].suites[0].name: "" must match`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(head+c.yaml), dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q)\n error = %v\n want it to contain %q", c.yaml, err, c.want)
		}
	}
}

// TestModelServerProcess: a model on a loopback URL is found by its port; a
// pid file is resolved against the config's directory.
func TestModelServerProcess(t *testing.T) {
	cases := []struct {
		url  string
		port int
	}{
		{"http://127.0.0.1:8080", 8080},
		{"http://localhost", 80},
		{"https://[::1]/v1", 443},
		{"http://127.0.0.2:11434", 11434},
		{"http://10.0.0.5:8080", 0},
		{"http://gpu-box:8080", 0},
	}
	for _, c := range cases {
		cfg, err := Parse([]byte("gateways:\n  - name: g\n    models:\n      - name: m\n        url: "+c.url+"\n        pid_file: run/llama.pid\n"), "/etc/clawwatch")
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		m := cfg.Gateways[0].Models[0]
		if m.LocalPort() != c.port || m.PIDFile != "/etc/clawwatch/run/llama.pid" {
			t.Errorf("%s: port %d, pid file %q; want %d and the resolved path", c.url, m.LocalPort(), m.PIDFile, c.port)
		}
	}
}
