package e2e

import (
	"bytes"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/internal/testbin"
)

// TestExporterWatchesRealGateway scrapes the exporter watching the real
// gateway from npm and checks every family of series for sane values.
func TestExporterWatchesRealGateway(t *testing.T) {
	openclawDir(t)
	home := t.TempDir()
	g := startReal(t, home)
	cfg, err := config.Parse(fmt.Appendf(nil, `
gateways:
  - name: real
    url: %s
    state_dir: %s
    probe_interval: 1s
    probe_timeout: 900ms
`, g.url, filepath.Join(home, ".openclaw")), "")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := exporter.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp, versioncollector.NewCollector("openclaw_exporter"))

	checks := map[string]func(float64) bool{
		"openclaw_gateway_up":                            func(v float64) bool { return v == 1 },
		"openclaw_gateway_ready":                         func(v float64) bool { return v == 1 },
		"openclaw_gateway_uptime_seconds":                func(v float64) bool { return v > 0 },
		"openclaw_gateway_event_loop_delay_p99_seconds":  func(v float64) bool { return v > 0 && v < 60 },
		"openclaw_gateway_event_loop_utilization_ratio":  func(v float64) bool { return v >= 0 && v <= 1 },
		"openclaw_gateway_process_up":                    func(v float64) bool { return v == 1 },
		"openclaw_gateway_process_open_fds":              func(v float64) bool { return v > 20 },
		"openclaw_gateway_process_resident_memory_bytes": func(v float64) bool { return v > 100<<20 },
		"openclaw_gateway_process_threads":               func(v float64) bool { return v > 1 },
		"openclaw_gateway_lock_files":                    func(v float64) bool { return v == 2 },
		"openclaw_gateway_lock_stale_files":              func(v float64) bool { return v == 0 },
		"openclaw_log_file_size_bytes":                   func(v float64) bool { return v > 0 },
		"openclaw_log_lines_total":                       func(v float64) bool { return v >= 0 },
		"openclaw_filesystem_avail_bytes":                func(v float64) bool { return v > 0 },
	}
	simtest.Eventually(t, 60*time.Second, func() error {
		mfs, err := reg.Gather()
		if err != nil {
			return err
		}
		values := map[string]float64{}
		var info string
		for _, mf := range mfs {
			m := mf.GetMetric()[0]
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				values[mf.GetName()] = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				values[mf.GetName()] = m.GetCounter().GetValue()
			}
			if mf.GetName() == "openclaw_gateway_info" {
				info = m.String()
			}
			if mf.GetName() == "openclaw_exporter_collector_success" {
				for _, m := range mf.GetMetric() {
					if m.GetGauge().GetValue() != 1 {
						return fmt.Errorf("collector failed: %s", m.String())
					}
				}
			}
		}
		var bad []string
		for name, ok := range checks {
			if v, found := values[name]; !found || !ok(v) {
				bad = append(bad, fmt.Sprintf("%s=%v(present %v)", name, v, found))
			}
		}
		if !strings.Contains(info, openclawVersion) {
			bad = append(bad, "openclaw_gateway_info: "+info)
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s", strings.Join(bad, ", "))
		}
		return nil
	})

	checkMetricsWithPromtool(t, reg)
}

// checkMetricsWithPromtool runs the real `promtool check metrics` over the
// exposition, as users' CI would.
func checkMetricsWithPromtool(t *testing.T, g prometheus.Gatherer) {
	t.Helper()
	promtool := testbin.Tool(t, "promtool")
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &text
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
