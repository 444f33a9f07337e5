package exporter_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/metricsdoc"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// watch starts an exporter for the simulator and returns its registry.
func watch(t *testing.T, s *simtest.Sim, interval, timeout string, token ...string) *prometheus.Registry {
	t.Helper()
	rpc := ""
	if len(token) > 0 { // the RPC probe too, at the probe interval
		path := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(path, []byte(token[0]), 0o600); err != nil {
			t.Fatal(err)
		}
		rpc = fmt.Sprintf("    token_file: %s\n    rpc_interval: %s\n", path, interval)
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
gateways:
  - name: sim
    url: %s
    state_dir: %s
    log_dir: %s
    probe_interval: %s
    probe_timeout: %s
    memory_limit_bytes: 1073741824
%s`, s.URL, s.StateDir, s.LogDir, interval, timeout, rpc)), "")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := exporter.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exp.Close)
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp, versioncollector.NewCollector("openclaw_exporter"))
	exporter.NewReloader("", exp, reg, slog.New(slog.DiscardHandler))
	return reg
}

// sample is one scrape, indexed by `name{label="value",…}` with labels
// sorted and the gateway label left out.
type sample map[string]float64

func scrape(t *testing.T, reg *prometheus.Registry) sample {
	t.Helper()
	m, err := gather(reg)
	if err != nil {
		t.Fatalf("scrape failed: %v", err)
	}
	return m
}

// gather is scrape without a test, for goroutines.
func gather(reg *prometheus.Registry) (sample, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	out := sample{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if l.GetName() != "gateway" {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
			}
			sort.Strings(labels)
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[key+"_sum"] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out, nil
}

// until scrapes until cond holds.
func until(t *testing.T, reg *prometheus.Registry, what string, cond func(sample) bool) sample {
	t.Helper()
	var last sample
	simtest.Eventually(t, 30*time.Second, func() error {
		last = scrape(t, reg)
		if !cond(last) {
			return fmt.Errorf("%s: not yet", what)
		}
		return nil
	})
	return last
}

func TestHealthyGateway(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, simtest.Options{})
	reg := watch(t, s, "200ms", "150ms")
	m := until(t, reg, "first probe and version", func(m sample) bool {
		return hasPrefix(m, "openclaw_gateway_info{") && m["openclaw_gateway_up"] == 1
	})
	checks := map[string]func(float64) bool{
		"openclaw_gateway_up":                                      eq(1),
		"openclaw_gateway_ready":                                   eq(1),
		"openclaw_gateway_event_loop_degraded":                     eq(0),
		"openclaw_gateway_process_up":                              eq(1),
		"openclaw_gateway_process_is_gateway":                      eq(1),
		"openclaw_gateway_process_open_fds":                        gt(3),
		"openclaw_gateway_process_resident_memory_bytes":           gt(1 << 20),
		"openclaw_gateway_process_memory_limit_bytes":              eq(1 << 30),
		`openclaw_gateway_process_tcp_connections{state="listen"}`: gt(0),
		"openclaw_gateway_lock_files":                              eq(2),
		"openclaw_gateway_lock_stale_files":                        eq(0),
		`openclaw_exporter_collector_success{collector="gateway"}`: eq(1),
		`openclaw_exporter_collector_success{collector="process"}`: eq(1),
		`openclaw_exporter_collector_success{collector="locks"}`:   eq(1),
		`openclaw_exporter_collector_success{collector="logs"}`:    eq(1),
		"openclaw_exporter_config_last_reload_successful":          eq(1),
	}
	for key, ok := range checks {
		if v, found := m[key]; !found || !ok(v) {
			t.Errorf("%s = %v (present %v)", key, v, found)
		}
	}
	var version string
	for k := range m {
		if strings.HasPrefix(k, "openclaw_gateway_info{") {
			version = k
		}
	}
	if !strings.Contains(version, `version="2026.9.6"`) {
		t.Errorf("info series %q, want version 2026.9.6", version)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %+v", err, problems)
	}
}

func hasPrefix(m sample, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func eq(want float64) func(float64) bool { return func(v float64) bool { return v == want } }
func gt(min float64) func(float64) bool  { return func(v float64) bool { return v > min } }

// TestHungGatewayNeverSlowsAScrape: with a probe in flight against a gateway
// that accepts and never answers, a scrape returns at once and says down.
func TestHungGatewayNeverSlowsAScrape(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, simtest.Options{})
	s.Fault(t, `{"kind":"hang"}`)
	reg := watch(t, s, "60s", "60s") // the first probe hangs for a minute
	m := scrape(t, reg)
	if m["openclaw_gateway_up"] != 0 || m[`openclaw_exporter_collector_success{collector="gateway"}`] != 1 {
		t.Errorf("up = %v, gateway collector success = %v", m["openclaw_gateway_up"], m[`openclaw_exporter_collector_success{collector="gateway"}`])
	}
	// The scrape did not wait for the probe: no probe had completed.
	if n := m[`openclaw_gateway_probe_duration_seconds{endpoint="healthz"}_count`]; n != 0 {
		t.Errorf("%v probes completed before the scrape returned; the scrape waited for the hung gateway", n)
	}
}

func TestFaultsShowInMetrics(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		fault string
		want  string
		cond  func(before, now sample) bool
	}{
		{"hang", nil, `{"kind":"hang"}`, "up 0 with timeout failures", func(b, m sample) bool {
			return m["openclaw_gateway_up"] == 0 && m[`openclaw_gateway_probe_failures_total{endpoint="healthz",reason="timeout"}`] > 0
		}},
		{"slow", nil, `{"kind":"slow","latency":"300ms"}`, "probes slower than 300ms, still up", func(b, m sample) bool {
			k := `openclaw_gateway_probe_duration_seconds{endpoint="healthz"}`
			n := m[k+"_count"] - b[k+"_count"]
			return n > 0 && (m[k+"_sum"]-b[k+"_sum"])/n >= 0.3 && m["openclaw_gateway_up"] == 1
		}},
		{"event_loop_stall", nil, `{"kind":"event_loop_stall","every":"3s","duration":"1s"}`, "degraded with delay ≥ 1s", func(b, m sample) bool {
			return m["openclaw_gateway_event_loop_degraded"] == 1 && m["openclaw_gateway_event_loop_delay_window_max_seconds"] >= 1
		}},
		{"fd_leak", nil, `{"kind":"fd_leak","per_second":200}`, "open fds up by 100", func(b, m sample) bool {
			return m["openclaw_gateway_process_open_fds"] >= b["openclaw_gateway_process_open_fds"]+100
		}},
		{"memory_leak", nil, `{"kind":"memory_leak","bytes_per_second":"40MiB"}`, "resident memory up by 32 MiB", func(b, m sample) bool {
			return m["openclaw_gateway_process_resident_memory_bytes"] >= b["openclaw_gateway_process_resident_memory_bytes"]+32<<20
		}},
		{"not_ready", nil, `{"kind":"not_ready","failing":["telegram"]}`, "not ready, telegram failing, still up", func(b, m sample) bool {
			return m["openclaw_gateway_ready"] == 0 && m[`openclaw_gateway_readiness_check_failing{check="telegram"}`] == 1 && m["openclaw_gateway_up"] == 1
		}},
		{"error_burst", nil, `{"kind":"error_burst","pattern":"ModelNotResponding","per_second":20}`, "pattern matches and error lines", func(b, m sample) bool {
			return m[`openclaw_log_pattern_matches_total{pattern="model_not_responding"}`] >= 10 && m[`openclaw_log_lines_total{level="error"}`] >= 10
		}},
		{"log_flood", []string{"--log-max-size", "256KiB"}, `{"kind":"log_flood","bytes_per_second":"1MiB"}`, "2 MiB read across rotations", func(b, m sample) bool {
			return m["openclaw_log_read_bytes_total"] >= 2<<20 && m[`openclaw_log_lines_total{level="debug"}`] > 1000 && m[`openclaw_log_lines_total{level="unknown"}`] == 0
		}},
		{"crash", nil, `{"kind":"crash"}`, "down, no process, two stale locks", func(b, m sample) bool {
			return m["openclaw_gateway_up"] == 0 && m["openclaw_gateway_process_up"] == 0 && m["openclaw_gateway_lock_stale_files"] == 2
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := simtest.Start(t, simtest.Options{Args: c.args})
			interval, timeout := "250ms", "200ms"
			if c.name == "slow" {
				interval, timeout = "1s", "900ms" // room for the added latency
			}
			reg := watch(t, s, interval, timeout)
			before := until(t, reg, "healthy", func(m sample) bool {
				return m["openclaw_gateway_up"] == 1 && m["openclaw_gateway_process_up"] == 1
			})
			s.Fault(t, c.fault)
			until(t, reg, c.want, func(m sample) bool { return c.cond(before, m) })
		})
	}
}

// maxHelp is the longest HELP text a gateway series may have.
const maxHelp = 72

// TestMetricsDocumented fails when docs/metrics.md and the exported series
// differ, in either direction.
func TestMetricsDocumented(t *testing.T) {
	t.Parallel()
	documented, err := metricsdoc.Names("../docs/metrics.md", "### gateway, process, locks, logs")
	if err != nil {
		t.Fatal(err)
	}
	s := simtest.Start(t, simtest.Options{Token: "doc-token"})
	s.Fault(t, `{"kind":"not_ready","failing":["telegram"]}`) // makes the failing-check series appear
	reg := watch(t, s, "200ms", "150ms", "doc-token")
	exported := map[string]bool{}
	until(t, reg, "every conditional series present", func(m sample) bool {
		return hasPrefix(m, "openclaw_gateway_info{") && hasPrefix(m, "openclaw_gateway_readiness_check_failing{") &&
			hasPrefix(m, "openclaw_gateway_event_loop_degraded") && hasPrefix(m, "openclaw_log_file_size_bytes") &&
			hasPrefix(m, "openclaw_gateway_health_channel_last_inbound_timestamp_seconds{") && hasPrefix(m, "openclaw_gateway_health_model_runtime_degraded")
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
		// Every scrape sends each HELP: one short line, the detail is in
		// docs/metrics.md (build_info's is client_golang's).
		if h := mf.GetHelp(); !strings.HasSuffix(mf.GetName(), "_build_info") && len(h) > maxHelp || strings.Contains(h, "\n") {
			t.Errorf("%s: HELP of %d characters, want one line of at most %d: %q", mf.GetName(), len(h), maxHelp, h)
		}
	}
	for name := range exported {
		if !documented[name] {
			t.Errorf("%s is exported but not in docs/metrics.md", name)
		}
	}
	for name := range documented {
		if !exported[name] {
			t.Errorf("%s is in docs/metrics.md but not exported", name)
		}
	}
}
