package reasoning_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/reasoning"
	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
	"github.com/clawwatch/clawwatch/internal/metricsdoc"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

var logger = slog.New(slog.DiscardHandler)

// updater is what the exporter calls on each collector.
type updater interface {
	Update(ch chan<- prometheus.Metric) error
}

// registry registers collectors the way the exporter runs them.
func registry(t *testing.T, us ...updater) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, u := range us {
		reg.MustRegister(unchecked{u})
	}
	return reg
}

type unchecked struct{ u updater }

func (unchecked) Describe(chan<- *prometheus.Desc) {}
func (c unchecked) Collect(ch chan<- prometheus.Metric) {
	if err := c.u.Update(ch); err != nil {
		panic(err)
	}
}

// gather returns the value of every sample, keyed by name{labels} in the
// labels' sorted order.
func gather(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			key := mf.GetName() + "{" + strings.Join(ls, ",") + "}"
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// key is a sample's key in gather's map; labels are name=value, any order.
func key(name string, labels ...string) string {
	return name + "{" + strings.Join(slices.Sorted(slices.Values(labels)), ",") + "}"
}

// modelConfig is a gateway with one model server and the given suites.
func modelConfig(t *testing.T, url, extra string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(fmt.Sprintf(`
gateways:
  - name: gw
    models:
      - name: qwen
        url: %s
        health_interval: 1s
%s`, url, extra)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeSuite(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "suite.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func monitor(t *testing.T, c *config.Config) *reasoning.Monitor {
	t.Helper()
	m, err := reasoning.New(c.Gateways[0], logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

func TestDefaultSuiteAgainstTheSimulator(t *testing.T) {
	sim := simtest.Start(t, simtest.Options{Token: "s3cret"})
	keyFile := filepath.Join(t.TempDir(), "model.key")
	if err := os.WriteFile(keyFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := len(suite.Default().Tests)
	for _, api := range []string{"chat", "completions"} {
		t.Run(api, func(t *testing.T) {
			m := monitor(t, modelConfig(t, sim.URL, "        api: "+api+"\n        api_key_file: "+keyFile+"\n        health_path: \"\"\n"))
			reg := registry(t, m.Quality(), m.Health())
			r := m.Runners()[0]
			labels := []string{"gateway=gw", "model=qwen", "suite=default"}

			sim.Control(t, http.MethodDelete, "/faults", "")
			r.RunOnce(context.Background())
			got := gather(t, reg)
			if v := got[key("openclaw_reasoning_pass_ratio", labels...)]; v != 1 {
				t.Errorf("healthy: pass ratio %v, want 1", v)
			}
			if got[key("openclaw_reasoning_runs_total", append(labels, "result=passed")...)] != 1 ||
				got[key("openclaw_reasoning_last_pass_timestamp_seconds", labels...)] == 0 ||
				got[key("openclaw_reasoning_completion_tokens_per_second", labels...)] <= 0 ||
				got[key("openclaw_reasoning_test_thinking_characters", append(labels, "test=arith-multiply-en")...)] == 0 {
				t.Errorf("healthy run: %v", got)
			}
			if _, ok := got[key("openclaw_model_server_up", "gateway=gw", "model=qwen")]; ok {
				t.Error("health_path \"\" still probes")
			}

			const ratio = 0.25
			sim.Fault(t, fmt.Sprintf(`{"kind":"reasoning_degraded","fail_ratio":%v}`, ratio))
			r.RunOnce(context.Background())
			got = gather(t, reg)
			want := 1 - math.Round(ratio*float64(n))/float64(n)
			if v := got[key("openclaw_reasoning_pass_ratio", labels...)]; math.Abs(v-want) > 1e-9 {
				t.Errorf("fail_ratio %v: pass ratio %v, want %v", ratio, v, want)
			}
			failed := 0.0
			for _, tc := range suite.Default().Tests {
				failed += 1 - got[key("openclaw_reasoning_test_passed", append(labels, "test="+tc.ID)...)]
			}
			if int(failed) != int(math.Round(ratio*float64(n))) ||
				got[key("openclaw_reasoning_failures_total", append(labels, "reason=wrong_answer")...)] != failed ||
				got[key("openclaw_reasoning_runs_total", append(labels, "result=failed")...)] != 1 ||
				got[key("openclaw_reasoning_run_duration_seconds", labels...)] != 2 {
				t.Errorf("degraded run: %d tests failed; %v", int(failed), got)
			}
		})
	}
}

func TestThinkingFormatsAgainstTheSimulator(t *testing.T) {
	cut := writeSuite(t, `{"tests":[{"id":"cut","prompt":"What is 17 multiplied by 23? Answer with the number only.","max_tokens":3,"expected_keywords":["391"]}]}`)
	cases := []struct {
		name, format, suite string
		passed              float64
		reason              string
	}{
		{"reasoning_content", "deepseek", "", 1, ""},
		{"inline think block cut by max_tokens", "none", cut, 0, "think_truncated"},
		{"reasoning_content cut by max_tokens", "deepseek", cut, 0, "think_truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := simtest.Start(t, simtest.Options{Args: []string{"--reasoning-format=" + c.format}})
			extra := "        health_path: \"\"\n"
			if c.suite != "" {
				extra += "        suites:\n          - name: s\n            file: " + c.suite + "\n"
			}
			m := monitor(t, modelConfig(t, sim.URL, extra))
			m.Runners()[0].RunOnce(context.Background())
			got := gather(t, registry(t, m.Quality()))
			suiteName := "default"
			if c.suite != "" {
				suiteName = "s"
			}
			labels := []string{"gateway=gw", "model=qwen", "suite=" + suiteName}
			if v := got[key("openclaw_reasoning_pass_ratio", labels...)]; v != c.passed {
				t.Errorf("pass ratio %v, want %v", v, c.passed)
			}
			if c.reason != "" && got[key("openclaw_reasoning_failures_total", append(labels, "reason="+c.reason)...)] != 1 {
				t.Errorf("no %s failure: %v", c.reason, got)
			}
		})
	}
}

// A hung model server costs each test its timeout, in the background: scrapes
// answer from the cache meanwhile and the other suites run on.
func TestHungServerNeverBlocksScrapesOrOtherSuites(t *testing.T) {
	hung := simtest.Start(t, simtest.Options{})
	healthy := simtest.Start(t, simtest.Options{})
	hung.Fault(t, `{"kind":"hang"}`)
	const tests = `{"id":"a","prompt":"What is 17 multiplied by 23? Answer with the number only.","expected_keywords":["391"]},
		{"id":"b","prompt":"2的10次方等于多少?只写数字。","expected_keywords":["1024"]%s}`
	// The hung server's second test has its own timeout; the healthy one
	// keeps the default (60s), so that a loaded machine cannot fail it.
	stuckSuite := writeSuite(t, `{"tests":[`+fmt.Sprintf(tests, `,"timeout":"1500ms"`)+`]}`)
	fineSuite := writeSuite(t, `{"tests":[`+fmt.Sprintf(tests, "")+`]}`)
	c, err := config.Parse([]byte(fmt.Sprintf(`
gateways:
  - name: gw
    models:
      - name: stuck
        url: %s
        health_interval: 1s
        suites:
          - name: s
            file: %s
            timeout: 1s
            retries: 0
      - name: fine
        url: %s
        health_interval: 1s
        suites:
          - name: s
            file: %s
`, hung.URL, stuckSuite, healthy.URL, fineSuite)), "")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := exporter.New(c, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)
	stuck := []string{"gateway=gw", "model=stuck", "suite=s"}
	fine := []string{"gateway=gw", "model=fine", "suite=s"}
	// A scrape answers while the hung run is in flight.
	simtest.Eventually(t, 30*time.Second, func() error {
		if v := gather(t, reg)[key("openclaw_reasoning_run_in_progress", stuck...)]; v != 1 {
			return fmt.Errorf("hung run in progress = %v", v)
		}
		return nil
	})
	simtest.Eventually(t, 60*time.Second, func() error {
		got := gather(t, reg)
		if got[key("openclaw_reasoning_runs_total", append(stuck, "result=error")...)] != 1 ||
			got[key("openclaw_reasoning_pass_ratio", fine...)] != 1 ||
			got[key("openclaw_model_server_up", "gateway=gw", "model=fine")] != 1 {
			return fmt.Errorf("not yet: %v", got)
		}
		if v := got[key("openclaw_reasoning_failures_total", append(stuck, "reason=timeout")...)]; v != 2 {
			return fmt.Errorf("hung suite: %v timeouts, want 2", v)
		}
		if _, ok := got[key("openclaw_reasoning_pass_ratio", stuck...)]; ok {
			return fmt.Errorf("a run without answers set a pass ratio")
		}
		if got[key("openclaw_model_server_up", "gateway=gw", "model=stuck")] != 0 ||
			got[key("openclaw_exporter_collector_success", "collector=reasoning", "gateway=gw")] != 1 ||
			got[key("openclaw_exporter_collector_success", "collector=model_server", "gateway=gw")] != 1 {
			return fmt.Errorf("collectors: %v", got)
		}
		return nil
	})
}

func TestHealthProbe(t *testing.T) {
	sim := simtest.Start(t, simtest.Options{})
	p := reasoning.NewHealthProber("gw", "qwen", sim.URL+"/v1", "/health", http.DefaultClient, time.Hour, 3*time.Second, logger)
	up := func() float64 {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(healthOf(p))
		return gather(t, reg)[key("openclaw_model_server_up", "gateway=gw", "model=qwen")]
	}
	if p.URL != sim.URL+"/health" {
		t.Errorf("probe URL %s: /v1 should be dropped", p.URL)
	}
	p.ProbeOnce(context.Background())
	if up() != 1 {
		t.Error("healthy server: up 0")
	}
	sim.Fault(t, `{"kind":"hang"}`)
	p.ProbeOnce(context.Background())
	if up() != 0 {
		t.Error("hung server: up 1")
	}
}

func healthOf(p *reasoning.HealthProber) prometheus.Collector {
	return unchecked{reasoning.NewMonitor(nil, []*reasoning.HealthProber{p}).Health()}
}

func TestMetricsDocumented(t *testing.T) {
	sim := simtest.Start(t, simtest.Options{})
	m := monitor(t, modelConfig(t, sim.URL, ""))
	m.Runners()[0].RunOnce(context.Background())
	m.Probers()[0].ProbeOnce(context.Background())
	reg := registry(t, m.Quality(), m.Health())
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	documented, err := metricsdoc.Names("../../docs/metrics.md", "### reasoning")
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]bool{}
	for _, mf := range mfs {
		exposed[mf.GetName()] = true
		if !documented[mf.GetName()] {
			t.Errorf("%s is exposed but not in docs/metrics.md", mf.GetName())
		}
		if !strings.HasPrefix(mf.GetName(), "openclaw_reasoning_") && !strings.HasPrefix(mf.GetName(), "openclaw_model_server_") {
			t.Errorf("%s: outside the reasoning prefixes", mf.GetName())
		}
	}
	for name := range documented {
		if !exposed[name] {
			t.Errorf("%s is documented but not exposed", name)
		}
	}
}

func TestOneShot(t *testing.T) {
	sim := simtest.Start(t, simtest.Options{})
	bad := writeSuite(t, `{"tests":[{"prompt":"p"}]}`)
	cases := []struct {
		name   string
		fault  string
		o      reasoning.OneShot
		code   int
		stdout []string
		stderr string
	}{
		{"all pass", "", reasoning.OneShot{Endpoint: sim.URL, Model: "qwen", API: "chat"}, 0,
			[]string{"PASS  arith-multiply-en", "passed: 22 of 22 passed, pass ratio 1.000"}, ""},
		{"some fail", `{"kind":"reasoning_degraded","fail_ratio":0.5}`, reasoning.OneShot{Endpoint: sim.URL, API: "completions"}, 1,
			[]string{"FAIL  ", "      wrong_answer: ", "failed: 11 of 22 passed, pass ratio 0.500"}, ""},
		{"bad suite", "", reasoning.OneShot{SuiteFile: bad, Endpoint: sim.URL, API: "chat"}, 2, nil, "tests[0].match: no rule"},
		// Nothing listens: the first refused connection ends the run, with
		// no retries and no further tests.
		{"refused", "", reasoning.OneShot{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", simtest.FreePort(t)), API: "chat", Retries: 2}, 2,
			[]string{"FAIL  ", "http_error"}, "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim.Control(t, http.MethodDelete, "/faults", "")
			if c.fault != "" {
				sim.Fault(t, c.fault)
			}
			c.o.Timeout = 10 * time.Second
			var out, errOut bytes.Buffer
			if code := c.o.Run(context.Background(), &out, &errOut); code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out.String(), errOut.String())
			}
			for _, s := range c.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			if !strings.Contains(errOut.String(), c.stderr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), c.stderr)
			}
			if c.name == "refused" {
				if n := strings.Count(out.String(), "FAIL  "); n != 1 {
					t.Errorf("%d tests ran against a refused endpoint, want 1:\n%s", n, out.String())
				}
			}
		})
	}
}
