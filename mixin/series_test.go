package mixin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// errUnverified marks a part whose binary or package does not exist yet;
// its names are logged, not failed, except under CI=true.
var errUnverified = errors.New("not built yet")

// prometheusSeries are the series Prometheus itself writes: up for every
// scrape target (a dead or vanished exporter or remediator) and ALERTS (the
// dashboards' alert annotations).
var prometheusSeries = []string{"up", "ALERTS"}

// selfSeries says whether a name is one of the Go and process collectors'
// series, which the exporter and the remediator both register.
func selfSeries(n string) bool {
	return strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_")
}

// TestExpressionsNameRegisteredSeries parses every PromQL expression of the
// rules and the dashboards and checks that each series it selects is one the
// running exporter, the running remediator or the GPU collector registers
// (a histogram's _bucket, _sum and _count included), or a recording rule's
// output. Names come from /metrics of the real binaries, never a hand list.
func TestExpressionsNameRegisteredSeries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the exporter, the remediator and a simulator")
	}
	exprs := expressions(t, render(t, ""))
	used := map[string][]string{} // series name → where
	for where, expr := range exprs {
		e, err := parser.ParseExpr(expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", where, err, expr)
			continue
		}
		for _, n := range selectedNames(e) {
			used[n] = append(used[n], where)
		}
	}
	recorded := map[string]bool{}
	for _, f := range []string{"mixin/rules.yaml"} {
		for _, g := range parseRules(t, render(t, "")[f]).Groups {
			for _, r := range g.Rules {
				recorded[r.Record] = true
			}
		}
	}

	parts := []struct {
		name   string
		owns   func(string) bool
		series func(t *testing.T, want []string) (map[string]bool, error)
	}{
		{"gpu", func(n string) bool { return strings.HasPrefix(n, "openclaw_gpu_") }, gpuSeries},
		{"remediator", func(n string) bool { return strings.HasPrefix(n, "openclaw_remediator_") }, remediatorSeries},
		// The dashboards read the Go and process series of the exporter.
		{"exporter", func(n string) bool { return strings.HasPrefix(n, "openclaw_") || selfSeries(n) }, exporterSeries},
	}
	owner := func(n string) int {
		return slices.IndexFunc(parts, func(p struct {
			name   string
			owns   func(string) bool
			series func(t *testing.T, want []string) (map[string]bool, error)
		}) bool {
			return p.owns(n)
		})
	}
	for i, p := range parts {
		var want []string
		for n := range used {
			if !recorded[n] && owner(n) == i {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		got, err := p.series(t, want)
		if errors.Is(err, errUnverified) {
			if os.Getenv("CI") == "true" {
				t.Errorf("%s: %v", p.name, err)
			} else {
				t.Logf("%s unverified (%v): %s", p.name, err, strings.Join(want, " "))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		t.Logf("%s: %d names on its /metrics; the mixin uses %d of them", p.name, len(got), len(want))
		for _, n := range want {
			if !got[n] {
				t.Errorf("%s is not registered by the %s; used in %s", n, p.name, strings.Join(used[n], ", "))
			}
		}
	}
	for n, where := range used {
		if owner(n) < 0 && !recorded[n] && !slices.Contains(prometheusSeries, n) {
			t.Errorf("%s belongs to no part; used in %s", n, strings.Join(where, ", "))
		}
	}
}

// expressions returns every PromQL expression of the generated rules and
// dashboards (panels, variables, annotations), the dashboards' variables
// replaced by valid values, by where it is.
func expressions(t *testing.T, files map[string][]byte) map[string]string {
	t.Helper()
	exprs := map[string]string{}
	for _, f := range []string{"mixin/alerts.yaml", "mixin/rules.yaml"} {
		for _, g := range parseRules(t, files[f]).Groups {
			for _, r := range g.Rules {
				exprs[f+" "+r.Alert+r.Record+"/"+r.Labels["severity"]] = r.Expr
			}
		}
	}
	for path, data := range files {
		if !strings.HasPrefix(path, "dashboards/") {
			continue
		}
		var d struct {
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
			Templating struct {
				List []struct {
					Name       string `json:"name"`
					Definition string `json:"definition"`
				} `json:"list"`
			} `json:"templating"`
			Annotations struct {
				List []struct {
					Name string `json:"name"`
					Expr string `json:"expr"`
				} `json:"list"`
			} `json:"annotations"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, p := range d.Panels {
			for i, tg := range p.Targets {
				exprs[fmt.Sprintf("%s %q #%d", path, p.Title, i)] = grafanaVars(tg.Expr)
			}
		}
		for _, v := range d.Templating.List {
			if m := labelValuesRe.FindStringSubmatch(v.Definition); m != nil {
				exprs[fmt.Sprintf("%s variable %s", path, v.Name)] = grafanaVars(m[1])
			}
		}
		for _, a := range d.Annotations.List {
			exprs[fmt.Sprintf("%s annotation %q", path, a.Name)] = grafanaVars(a.Expr)
		}
	}
	return exprs
}

var (
	labelValuesRe = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	grafanaVarRe  = regexp.MustCompile(`\$\{?(\w+)\}?`)
)

// grafanaVars replaces Grafana's variables with values PromQL accepts: the
// interval built-ins by 5m, $name by var_name.
func grafanaVars(expr string) string {
	return grafanaVarRe.ReplaceAllStringFunc(expr, func(v string) string {
		switch name := strings.Trim(v, "${}"); name {
		case "__rate_interval", "__interval", "__range":
			return "5m"
		default:
			return "var_" + name
		}
	})
}

// selectedNames lists the metric names an expression selects.
func selectedNames(e parser.Expr) []string {
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		names = append(names, name)
		return nil
	})
	return names
}

// exporterSeries runs openclaw-exporter against a simulator, with the
// simulator's own OpenAI-compatible endpoint as the model server, and
// returns the names on its /metrics once every wanted name is there or the
// deadline passed. A failing readiness check is injected so that the
// conditional series exist, and the gateway has a token so that the RPC
// probe's series do.
func exporterSeries(t *testing.T, want []string) (map[string]bool, error) {
	sim := simtest.Start(t, simtest.Options{Token: "series-token"})
	sim.Fault(t, `{"kind":"not_ready","failing":["telegram"]}`)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gateway.token"), []byte("series-token"), 0o600); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "exporter.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `
gateways:
  - name: sim
    url: %s
    token_file: gateway.token
    rpc_interval: 500ms
    state_dir: %s
    log_dir: %s
    probe_interval: 500ms
    probe_timeout: 400ms
    memory_limit_bytes: 1073741824
    models:
      - name: sim
        url: %s
        api_key_file: gateway.token
        health_path: /health
        health_interval: 500ms
        suites:
          - name: default
            interval: 2s
`, sim.URL, sim.StateDir, sim.LogDir, sim.URL), 0o644); err != nil {
		return nil, err
	}
	return serve(t, want, "exporter", testbin.Command(t, "openclaw-exporter"), "--config.file="+cfg)
}

// remediatorSeries runs openclaw-remediator with a minimal configuration.
func remediatorSeries(t *testing.T, want []string) (map[string]bool, error) {
	if _, err := os.Stat("../cmd/openclaw-remediator"); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnverified, err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "remediator.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `
journal: {path: %s}
diagnostics: {dir: %s}
targets:
  - name: main
    url: http://127.0.0.1:18789
    driver: {kind: process, start: ["/bin/true"]}
`, filepath.Join(dir, "journal.db"), filepath.Join(dir, "diagnostics")), 0o644); err != nil {
		return nil, err
	}
	return serve(t, want, "remediator", testbin.Command(t, "openclaw-remediator"), "serve", "--config.file="+cfg, "--web.insecure-no-auth")
}

// serve runs a command listening on a free loopback port and polls its
// /metrics until every wanted name is there or 60 s passed, and returns
// what it had last.
func serve(t *testing.T, want []string, name, bin string, args ...string) (map[string]bool, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", simtest.FreePort(t))
	cmd := exec.Command(bin, append(args, "--web.listen-address="+addr)...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	var got map[string]bool
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("%s exited: %v\n%s", name, err, out.String())
		default:
		}
		if names, err := metricNames("http://" + addr + "/metrics"); err == nil {
			got = names
			if !slices.ContainsFunc(want, func(n string) bool { return !got[n] }) {
				return got, nil
			}
		}
		if time.Now().After(deadline) {
			return got, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// metricNames reads the names of the families on a /metrics page from its
// TYPE lines; a histogram adds its _bucket, _sum and _count series.
func metricNames(url string) (map[string]bool, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("%s: %s %s", url, resp.Status, b)
	}
	return typeLines(resp.Body)
}

func typeLines(r io.Reader) (map[string]bool, error) {
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "#" || f[1] != "TYPE" {
			continue
		}
		names[f[2]] = true
		if f[3] == "histogram" || f[3] == "summary" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f[2]+s] = true
			}
		}
	}
	return names, sc.Err()
}
