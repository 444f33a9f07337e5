//go:build cgo

package e2e

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	expconfig "github.com/clawwatch/clawwatch/exporter/config"
	remconfig "github.com/clawwatch/clawwatch/remediator/config"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/gpu"
	"github.com/clawwatch/clawwatch/exporter/gpu/gputest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// emptyPanelsAllowed are panel queries that may rightly return nothing
// from a healthy-then-healed stack, keyed by dashboard file and panel title.
// Keep it tiny: every entry needs a reason.
var emptyPanelsAllowed = map[string]string{}

// TestDashboardsShowData: every query of every generated dashboard, with its
// template variables expanded as Grafana does, returns data from a running
// stack. The stack runs the reasoning probe against the simulator, an
// exporter's GPU collector over the mock 8×A100 host, and goes through the
// states whose series exist only then (a failing readiness check, an error
// burst, a degraded reasoning run, a hang healed by the remediator).
func TestDashboardsShowData(t *testing.T) {
	t.Parallel()
	simPort := simtest.FreePort(t)
	gpuAddr := serveGPU(t)
	// A token, so that the exporter's RPC probe and the health snapshot's
	// series exist (the simulator restarts with it, the remediator verifies
	// with it, and the simulator's model endpoint asks for it).
	tokenFile := filepath.Join(t.TempDir(), "gateway.token")
	if err := os.WriteFile(tokenFile, []byte("dashboards-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := startLoop(t, loopOptions{
		sim: simtest.Options{Port: simPort, Args: []string{"--token-file", tokenFile}},
		gateway: func(g *expconfig.Gateway) {
			m := reasoningModel("sim", fmt.Sprintf("http://127.0.0.1:%d", simPort))
			m.APIKeyFile, m.Suites[0].Interval = tokenFile, model.Duration(5*time.Second)
			g.Models, g.TokenFile, g.RPCInterval = []*expconfig.Model{m}, tokenFile, model.Duration(time.Second)
			// This host sets no cgroup memory limit; a service or container would.
			g.MemoryLimitBytes = 4 << 30
		},
		target: func(t *remconfig.Target) { t.TokenFile = tokenFile },
		// No GPU here: the GPU collector runs in this test as an exporter
		// with only that collector. Its samples get the exporter's job, as
		// with --collector.gpu; its own up keeps this job's name, so the
		// loop still counts one exporter.
		scrape: []scrapeConfig{{JobName: "openclaw-gpu", StaticConfigs: []staticConfig{{Targets: []string{gpuAddr}}},
			MetricRelabelConfigs: []relabelConfig{{TargetLabel: "job", Replacement: "openclaw"}}}},
	})
	start := time.Now()

	// States whose series exist only while they last: each until the
	// exporter has reported it, then cleared.
	for _, f := range []struct{ spec, kind, seen string }{
		{`{"kind":"not_ready","failing":["telegram"]}`, "not_ready", `openclaw_gateway_readiness_check_failing == 1`},
		{`{"kind":"error_burst","pattern":"ModelNotResponding","per_second":5}`, "error_burst", `openclaw_log_pattern_matches_total > 0`},
		// 2 of 22 answers wrong: failures by reason, while the pass ratio
		// stays above the alert's threshold.
		{`{"kind":"reasoning_degraded","fail_ratio":0.1}`, "reasoning_degraded", `openclaw_reasoning_failures_total > 0`},
	} {
		l.sim.Fault(t, f.spec)
		l.waitFor(f.seen)
		if code, body := l.sim.Control(t, http.MethodDelete, "/faults/"+f.kind, ""); code != http.StatusNoContent {
			t.Fatalf("DELETE /faults/%s: %d %s", f.kind, code, body)
		}
	}
	// The remediation dashboard needs an incident and an action.
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"hang"}`)
	l.recover(fault, "OpenClawGatewayHung", "restart", l.simReady)
	// A passing reasoning run after the degraded one, and a fresh scrape of
	// every target after the restart: the next reasoning run can come
	// sooner than the remediator's next scrape, which counts the restart.
	restarted := float64(time.Now().UnixMilli()) / 1000
	l.waitFor(fmt.Sprintf(`openclaw_reasoning_last_pass_timestamp_seconds > %d`, time.Now().Unix()))
	l.waitFor(fmt.Sprintf(`min(timestamp(up)) > %.3f`, restarted))

	end := time.Now()
	checkDashboards(t, l, start, end)
}

// serveGPU serves an exporter with only the GPU collector, over the mock
// host, on a loopback port. Device 0's compute process (pid 1000) stands
// for the gateway "default".
func serveGPU(t *testing.T) string {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	exp, err := exporter.New(&config.Config{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	procs := func() []gpu.Process { return []gpu.Process{{PID: 1000, Gateway: "default", Role: gpu.RoleGateway}} }
	c := gpu.New(gputest.NewHost(), gpu.Options{Processes: procs}, logger)
	exp.AddHostCollector("gpu", c)
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp, versioncollector.NewCollector("openclaw_exporter"))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(func() {
		srv.Close()
		c.Close()
		exp.Close()
	})
	return strings.TrimPrefix(srv.URL, "http://")
}

// dashboard is what the check reads of a generated dashboard.
type dashboard struct {
	Title      string
	Templating struct {
		List []variable
	}
	Annotations struct {
		List []struct {
			Name string
			Expr string
		}
	}
	Panels []panel
}

type variable struct {
	Name       string
	Type       string
	Multi      bool
	IncludeAll bool
	Query      json.RawMessage // a string or {"query": …}
}

type panel struct {
	Type    string
	Title   string
	Targets []struct {
		Expr    string
		Instant bool
	}
	Panels []panel // a collapsed row's panels
}

// checkDashboards runs every panel and annotation query of dashboards/*.json
// over [start, end] the way Grafana would: range queries at $__interval
// steps, instant queries at the end. The stack went through a hang that
// fired an alert and a restart, so both annotations mark something.
func checkDashboards(t *testing.T, l *loop, start, end time.Time) {
	files, err := filepath.Glob("../dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	// Grafana's built-ins with the stack's 1 s scrape interval (the data
	// source's minimum interval) and a panel about a thousand points wide.
	scrape := time.Second
	interval := max(scrape, end.Sub(start)/1000).Round(time.Second)
	builtins := map[string]string{
		"__interval":      promDuration(interval),
		"__interval_ms":   strconv.FormatInt(interval.Milliseconds(), 10),
		"__rate_interval": promDuration(max(interval+scrape, 4*scrape)),
		"__range":         promDuration(end.Sub(start).Round(time.Second)),
		"__range_s":       strconv.Itoa(int(end.Sub(start).Seconds())),
	}
	queries := 0
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{}
			for k, v := range builtins {
				vars[k] = v
			}
			for _, v := range d.Templating.List {
				if v.Type != "query" {
					continue
				}
				vars[v.Name] = l.variable(t, v, vars, start, end)
			}
			var walk func([]panel)
			walk = func(ps []panel) {
				for _, p := range ps {
					for i, target := range p.Targets {
						queries++
						key := fmt.Sprintf("%s/%s", name, p.Title)
						q, err := expand(target.Expr, vars)
						if err != nil {
							t.Errorf("%s target %d: %v", key, i, err)
							continue
						}
						n, err := l.count(q, target.Instant, start, end, interval)
						switch {
						case err != nil:
							t.Errorf("%s target %d: %v", key, i, err)
						case n == 0 && emptyPanelsAllowed[key] == "":
							t.Errorf("%s target %d returns no data:\n%s", key, i, q)
						case n > 0 && emptyPanelsAllowed[key] != "":
							t.Errorf("%s is allowed to be empty (%s) but has data: drop it from the list", key, emptyPanelsAllowed[key])
						}
					}
					walk(p.Panels)
				}
			}
			walk(d.Panels)
			for _, a := range d.Annotations.List {
				queries++
				q, err := expand(a.Expr, vars)
				if err != nil {
					t.Errorf("annotation %s: %v", a.Name, err)
					continue
				}
				if n, err := l.count(q, false, start, end, interval); err != nil || n == 0 {
					t.Errorf("annotation %s marks nothing (%v):\n%s", a.Name, err, q)
				}
			}
		})
	}
	t.Logf("%d panel queries over %s at %s steps", queries, end.Sub(start).Round(time.Second), interval)
}

var labelValuesRe = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// variable resolves a query variable as Grafana does for label_values(…):
// every value is selected, formatted for a regex matcher when the
// variable is multi-valued.
func (l *loop) variable(t *testing.T, v variable, vars map[string]string, start, end time.Time) string {
	t.Helper()
	var def string
	if err := json.Unmarshal(v.Query, &def); err != nil {
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: query %s", v.Name, v.Query)
		}
		def = q.Query
	}
	m := labelValuesRe.FindStringSubmatch(strings.TrimSpace(def))
	if m == nil {
		t.Fatalf("variable %s: %q is not label_values(selector, label)", v.Name, def)
	}
	sel, err := expand(m[1], vars)
	if err != nil {
		t.Fatalf("variable %s: %v", v.Name, err)
	}
	var values []string
	if err := l.api("/api/v1/label/"+m[2]+"/values", url.Values{
		"match[]": {sel}, "start": {unix(start)}, "end": {unix(end)},
	}, &values); err != nil {
		t.Fatalf("variable %s: %v", v.Name, err)
	}
	if len(values) == 0 {
		// The cluster label is optional: on one host no series has it, and
		// Grafana's "None" (the empty string) matches them all.
		if v.Name == "cluster" && !v.Multi && !v.IncludeAll {
			return ""
		}
		t.Fatalf("variable %s has no values: label_values(%s, %s)", v.Name, sel, m[2])
	}
	sort.Strings(values)
	if !v.Multi && !v.IncludeAll {
		return values[0]
	}
	// Grafana's regex escaping, inside a PromQL string: 127\\.0\\.0\\.1.
	for i, s := range values {
		values[i] = strings.ReplaceAll(regexp.QuoteMeta(s), `\`, `\\`)
	}
	return "(" + strings.Join(values, "|") + ")"
}

var varRe = regexp.MustCompile(`\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)`)

// expand replaces $name and ${name} by the variables' values.
func expand(q string, vars map[string]string) (string, error) {
	var missing []string
	out := varRe.ReplaceAllStringFunc(q, func(s string) string {
		m := varRe.FindStringSubmatch(s)
		name := m[1] + m[2]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return s
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variables %v in %s", missing, q)
	}
	return out, nil
}

// count runs a query as a panel does and returns how many series came back.
func (l *loop) count(q string, instant bool, start, end time.Time, step time.Duration) (int, error) {
	var r struct{ Result []json.RawMessage }
	if instant {
		err := l.api("/api/v1/query", url.Values{"query": {q}, "time": {unix(end)}}, &r)
		return len(r.Result), err
	}
	err := l.api("/api/v1/query_range", url.Values{
		"query": {q}, "start": {unix(start)}, "end": {unix(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}, &r)
	return len(r.Result), err
}

// api calls Prometheus' HTTP API and decodes its data.
func (l *loop) api(path string, params url.Values, data any) error {
	code, body, err := httpGet(l.prometheus+path+"?"+params.Encode(), 10*time.Second)
	if err != nil {
		return err
	}
	var r struct {
		Status string
		Error  string
		Data   json.RawMessage
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%s: %d %s", path, code, body)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s %s: %s", path, params.Get("query"), r.Error)
	}
	return json.Unmarshal(r.Data, data)
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

// promDuration writes whole seconds as Prometheus does: 90s is 1m30s.
func promDuration(d time.Duration) string {
	s := int(d.Seconds())
	if s%60 != 0 || s == 0 {
		return strconv.Itoa(s) + "s"
	}
	return strconv.Itoa(s/60) + "m"
}
