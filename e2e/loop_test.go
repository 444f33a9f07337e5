//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"

	expconfig "github.com/clawwatch/clawwatch/exporter/config"
	remconfig "github.com/clawwatch/clawwatch/remediator/config"

	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/internal/gatewayconfig"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
	"github.com/clawwatch/clawwatch/mixin"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// demoWindows is deploy/demo/windows.jsonnet: every `…For` 5s, every
// `…Window` 20s, the gauge window 10s, the availability window and
// unresponsiveSeconds 15s, predictions at production `for`.
// Prometheus scrapes and evaluates every second.
var demoWindows = func() string {
	b, err := os.ReadFile("../deploy/demo/windows.jsonnet")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// loop is the whole stack on loopback: a gateway (the simulator), the
// exporter, real Prometheus with the mixin's rules, real Alertmanager
// routing by the remediation label, and the remediator restarting the
// gateway with its process driver.
type loop struct {
	t          *testing.T
	dir        string
	sim        *simtest.Sim
	gw         *gatewayUnderTest   // the gateway under test, the simulator too
	fleet      []*gatewayUnderTest // every gateway under test, gw first
	exporter   string
	prometheus string
	am         string
	remediator string
	token      string
	patience   time.Duration
}

// profile is a set of timings for the whole loop.
type profile struct {
	name          string
	windows       string // jsonnet mixed over the mixin first
	scrape        string // Prometheus scrape and evaluation interval
	probe         string // exporter probe_interval
	probeTimeout  string
	groupWait     string // Alertmanager
	groupInterval string
	patience      time.Duration // longest wait for one step of a recovery
}

var (
	// demoProfile is what the tests and `make demo` use.
	demoProfile = profile{"demo", demoWindows, "1s", "1s", "500ms", "1s", "2s", 90 * time.Second}
	// productionProfile is the mixin's defaults with common intervals:
	// 15s scrapes and evaluations, 5s probes, and the remediation route's
	// group_wait and group_interval of deploy/alertmanager/alertmanager.yml.
	productionProfile = profile{"production", "{}", "15s", "5s", "3s", "5s", "1m", 10 * time.Minute}
)

// profileFromEnv picks the profile from CLAWWATCH_LOOP_PROFILE (bench/mttr).
func profileFromEnv(t *testing.T) profile {
	switch p := os.Getenv("CLAWWATCH_LOOP_PROFILE"); p {
	case "", "demo":
		return demoProfile
	case "production":
		return productionProfile
	default:
		t.Fatalf("CLAWWATCH_LOOP_PROFILE=%q: want demo or production", p)
		return profile{}
	}
}

type loopOptions struct {
	profile  profile
	override string          // jsonnet mixed over the mixin after the profile's windows
	sim      simtest.Options // the simulator's options
	// gateway edits each gateway's entry in the exporter's configuration,
	// target each of the remediator's targets, remediator the remediator's
	// configuration.
	gateway    func(g *expconfig.Gateway)
	target     func(t *remconfig.Target)
	remediator func(c *remconfig.Config)
	scrape     []scrapeConfig // Prometheus scrapes these too
	// start starts the gateway under test instead of the simulator (the
	// real gateway from npm); sim is then unused and loop.sim nil.
	start func(t *testing.T) *gatewayUnderTest
	// fleet starts several named gateways under test instead: the exporter
	// watches each, the remediator has a target for each.
	fleet func(t *testing.T) []*gatewayUnderTest
	// restartArgs are simulator flags only for the remediator's restarts,
	// after the version and flags of sim: a gateway that comes back broken.
	restartArgs    []string
	verifyTimeout  string // the remediator's verify timeout, instead of the gateway's
	repeatInterval string // Alertmanager's repeat_interval (1h)
	// alertmanager, when set, writes Alertmanager's configuration instead
	// of the harness's (l.remediator and l.path("token") are known then).
	alertmanager func(l *loop) string
}

// gatewayUnderTest is the gateway a loop watches and the remediator
// restarts, the simulator or one that a test starts.
type gatewayUnderTest struct {
	name                  string // "default" unless a fleet names it
	url, stateDir, logDir string
	port                  int
	argv, env             []string // how the remediator starts it again
	verifyTimeout         string   // for the remediator to see a restart healthy (30s)
	// For this gateway alone, after the loop's own: edits of its exporter
	// entry and of its remediator target.
	exporter func(g *expconfig.Gateway)
	target   func(t *remconfig.Target)
}

func startLoop(t *testing.T, o loopOptions) *loop {
	t.Helper()
	if o.profile.name == "" {
		o.profile = demoProfile
	}
	p := o.profile
	l := &loop{t: t, dir: t.TempDir(), token: "e2e-remediator-token", patience: p.patience}
	switch {
	case o.fleet != nil:
		l.fleet = o.fleet(t)
	case o.start != nil:
		l.fleet = []*gatewayUnderTest{o.start(t)}
	default:
		l.sim = simtest.Start(t, o.sim)
		_, ctl, _ := strings.Cut(l.sim.ControlURL, "http://")
		l.gw = &gatewayUnderTest{url: l.sim.URL, stateDir: l.sim.StateDir, logDir: l.sim.LogDir, port: l.sim.Port,
			argv: []string{simtest.Binary(t), "--port", strconv.Itoa(l.sim.Port),
				"--control.listen-address", ctl, "--state-dir", l.sim.StateDir, "--log-dir", l.sim.LogDir},
			verifyTimeout: "30s"}
		// The same version and flags again, as a service restarts a gateway.
		if o.sim.Version != "" {
			l.gw.argv = append(l.gw.argv, "--gateway-version", o.sim.Version)
		}
		l.gw.argv = append(append(l.gw.argv, o.sim.Args...), o.restartArgs...)
		l.fleet = []*gatewayUnderTest{l.gw}
	}
	l.gw = l.fleet[0]
	exp := expconfig.Config{}
	rem := remconfig.Config{
		Journal:     remconfig.Journal{Path: l.path("journal.db")},
		Diagnostics: remconfig.Diagnostics{Dir: l.path("diagnostics")},
		Limits:      remconfig.Limits{Cooldown: model.Duration(time.Second), RetryDelay: model.Duration(time.Second)},
	}
	for _, g := range l.fleet {
		if g.name == "" {
			g.name = "default"
		}
		if o.verifyTimeout != "" {
			g.verifyTimeout = o.verifyTimeout
		}
		t.Cleanup(func() { simtest.KillListener(g.port) })
		eg := &expconfig.Gateway{Name: g.name, Connection: gatewayconfig.Connection{URL: g.url, StateDir: g.stateDir},
			LogDir: g.logDir, ProbeInterval: duration(t, p.probe), ProbeTimeout: duration(t, p.probeTimeout)}
		// The remediator starts the gateway again with the same argv and
		// environment.
		rt := &remconfig.Target{Name: g.name, Connection: gatewayconfig.Connection{URL: g.url, StateDir: g.stateDir},
			LogDirs: []string{g.logDir}, StopTimeout: model.Duration(3 * time.Second),
			Verify: remconfig.Verify{Timeout: duration(t, g.verifyTimeout), Interval: model.Duration(200 * time.Millisecond)},
			Driver: driver.Config{Spec: &driver.ProcessSpec{Shared: driver.Shared{Kind: "process", Env: g.env}, Start: g.argv, Output: l.path(g.name + ".out")}}}
		for _, edit := range []func(*expconfig.Gateway){o.gateway, g.exporter} {
			if edit != nil {
				edit(eg)
			}
		}
		for _, edit := range []func(*remconfig.Target){o.target, g.target} {
			if edit != nil {
				edit(rt)
			}
		}
		exp.Gateways = append(exp.Gateways, eg)
		rem.Targets = append(rem.Targets, rt)
	}
	if o.remediator != nil {
		o.remediator(&rem)
	}

	// Rules rendered from the mixin with short windows.
	files, err := mixin.Render(p.windows + " + " + orEmpty(o.override))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasPrefix(f.Path, "mixin/") {
			l.write(filepath.Base(f.Path), string(f.Data))
		}
	}
	l.write("token", l.token+"\n")

	// The exporter.
	exporterPort := simtest.FreePort(t)
	l.exporter = fmt.Sprintf("http://127.0.0.1:%d", exporterPort)
	l.writeYAML("exporter.yml", exp)
	l.start("exporter", testbin.Command(t, "openclaw-exporter"), "--config.file", l.path("exporter.yml"),
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", exporterPort), "--no-collector.gpu")

	// The remediator, restarting the simulator with the same flags, and
	// observing guarded upgrades through the Prometheus started below.
	remPort, promPort := simtest.FreePort(t), simtest.FreePort(t)
	l.remediator = fmt.Sprintf("http://127.0.0.1:%d", remPort)
	l.writeYAML("remediator.yml", rem)
	l.start("remediator", testbin.Command(t, "openclaw-remediator"), "serve", "--config.file", l.path("remediator.yml"),
		"--web.bearer-token-file", l.path("token"), "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", remPort),
		"--prometheus.url", fmt.Sprintf("http://127.0.0.1:%d", promPort))

	// Alertmanager, routing by the remediation label with bearer auth.
	amPort := simtest.FreePort(t)
	l.am = fmt.Sprintf("http://127.0.0.1:%d", amPort)
	l.writeYAML("alertmanager.yml", amConfig{
		Route: amRoute{Receiver: "null", GroupBy: []string{"alertname", "gateway"}, GroupWait: p.groupWait, GroupInterval: p.groupInterval,
			RepeatInterval: orDefault(o.repeatInterval, "1h"),
			Routes:         []amRoute{{Receiver: "remediator", Matchers: []string{`remediation=~".+"`, `remediation!="none"`}}}},
		Receivers: []amReceiver{{Name: "null"}, {Name: "remediator", WebhookConfigs: []amWebhook{{
			URL: l.remediator + "/api/v1/alerts", SendResolved: true,
			HTTPConfig: amHTTPConfig{Authorization: authorization{CredentialsFile: l.path("token")}}}}}},
	})
	if o.alertmanager != nil {
		l.write("alertmanager.yml", o.alertmanager(l))
	}
	l.start("alertmanager", testbin.Tool(t, "alertmanager"), "--config.file", l.path("alertmanager.yml"),
		"--storage.path", l.path("am-data"), "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", amPort),
		"--cluster.listen-address=")

	// Prometheus, scraping both every second and evaluating every second.
	l.prometheus = fmt.Sprintf("http://127.0.0.1:%d", promPort)
	l.writeYAML("prometheus.yml", promConfig{
		Global:    promGlobal{ScrapeInterval: p.scrape, EvaluationInterval: p.scrape},
		RuleFiles: []string{l.path("alerts.yaml"), l.path("rules.yaml")},
		Alerting:  promAlerting{Alertmanagers: []scrapeConfig{{StaticConfigs: []staticConfig{{Targets: []string{fmt.Sprintf("127.0.0.1:%d", amPort)}}}}}},
		ScrapeConfigs: append([]scrapeConfig{
			{JobName: "openclaw", StaticConfigs: []staticConfig{{Targets: []string{fmt.Sprintf("127.0.0.1:%d", exporterPort)}}}},
			{JobName: "openclaw-remediator", Authorization: &authorization{CredentialsFile: l.path("token")},
				StaticConfigs: []staticConfig{{Targets: []string{fmt.Sprintf("127.0.0.1:%d", remPort)}}}},
		}, o.scrape...),
	})
	l.start("prometheus", testbin.Tool(t, "prometheus"), "--config.file", l.path("prometheus.yml"),
		"--storage.tsdb.path", l.path("prom-data"), "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", promPort))

	simtest.Eventually(t, l.patience, func() error {
		for _, u := range []string{l.prometheus + "/-/ready", l.am + "/-/ready", l.remediator + "/-/ready", l.exporter + "/metrics"} {
			if code, _, err := httpGet(u, time.Second); err != nil || code != 200 {
				return fmt.Errorf("%s: %d %v", u, code, err)
			}
		}
		// Both jobs scraped and every gateway seen up.
		v, err := l.query(fmt.Sprintf(`sum(up{job=~"openclaw|openclaw-remediator"}) == 2 and on() count(openclaw_gateway_up == 1) == %d`, len(l.fleet)))
		if err != nil || len(v) == 0 {
			return fmt.Errorf("stack not scraped yet: %v", err)
		}
		return nil
	})
	return l
}

func orEmpty(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (l *loop) path(name string) string { return filepath.Join(l.dir, name) }

// writeYAML writes v, marshalled, as the file name.
func (l *loop) writeYAML(name string, v any) {
	l.t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		l.t.Fatalf("%s: %v", name, err)
	}
	l.write(name, string(data))
}

// reasoningModel is a model whose reasoning the exporter judges every 2 s.
func reasoningModel(name, url string) *expconfig.Model {
	return &expconfig.Model{Name: name, URL: url, HealthInterval: model.Duration(time.Second),
		Suites: []*expconfig.ModelSuite{{Name: "default", Interval: model.Duration(2 * time.Second), Timeout: model.Duration(10 * time.Second)}}}
}

// duration parses a duration of the loop's profile or options.
func duration(t *testing.T, s string) model.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The parts of Prometheus' and Alertmanager's configuration files that the
// loop writes. Their own types hide secrets and carry defaults that would
// be written out; these hold only what the loop sets.
type (
	promConfig struct {
		Global        promGlobal     `yaml:"global"`
		RuleFiles     []string       `yaml:"rule_files"`
		Alerting      promAlerting   `yaml:"alerting"`
		ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
	}
	promGlobal struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	}
	promAlerting struct {
		Alertmanagers []scrapeConfig `yaml:"alertmanagers"`
	}
	scrapeConfig struct {
		JobName              string          `yaml:"job_name,omitempty"`
		Authorization        *authorization  `yaml:"authorization,omitempty"`
		StaticConfigs        []staticConfig  `yaml:"static_configs"`
		MetricRelabelConfigs []relabelConfig `yaml:"metric_relabel_configs,omitempty"`
	}
	staticConfig struct {
		Targets []string `yaml:"targets"`
	}
	relabelConfig struct {
		TargetLabel string `yaml:"target_label"`
		Replacement string `yaml:"replacement"`
	}
	authorization struct {
		CredentialsFile string `yaml:"credentials_file"`
	}
	amConfig struct {
		Route     amRoute      `yaml:"route"`
		Receivers []amReceiver `yaml:"receivers"`
	}
	amRoute struct {
		Receiver       string    `yaml:"receiver"`
		Matchers       []string  `yaml:"matchers,omitempty"`
		GroupBy        []string  `yaml:"group_by,omitempty"`
		GroupWait      string    `yaml:"group_wait,omitempty"`
		GroupInterval  string    `yaml:"group_interval,omitempty"`
		RepeatInterval string    `yaml:"repeat_interval,omitempty"`
		Routes         []amRoute `yaml:"routes,omitempty"`
	}
	amReceiver struct {
		Name           string      `yaml:"name"`
		WebhookConfigs []amWebhook `yaml:"webhook_configs,omitempty"`
	}
	amWebhook struct {
		URL          string       `yaml:"url"`
		SendResolved bool         `yaml:"send_resolved"`
		HTTPConfig   amHTTPConfig `yaml:"http_config"`
	}
	amHTTPConfig struct {
		Authorization authorization `yaml:"authorization"`
	}
)

func (l *loop) write(name, data string) {
	l.t.Helper()
	if err := os.WriteFile(l.path(name), []byte(data), 0o600); err != nil {
		l.t.Fatal(err)
	}
}

// start runs a component in its own process group with its output in a
// file that is shown when the test fails.
func (l *loop) start(name, bin string, args ...string) {
	l.t.Helper()
	out, err := os.Create(l.path(name + ".log"))
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start %s: %v", name, err)
	}
	l.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		out.Close()
		if l.t.Failed() {
			log, _ := os.ReadFile(l.path(name + ".log"))
			l.t.Logf("--- %s output (last 3000 bytes):\n%s", name, tail(log, 3000))
		}
	})
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// query runs an instant PromQL query and returns the result vector.
func (l *loop) query(q string) ([]map[string]any, error) {
	code, body, err := httpGet(l.prometheus+"/api/v1/query?query="+url.QueryEscape(q), 5*time.Second)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string
		Error  string
		Data   struct{ Result []map[string]any }
	}
	if err := json.Unmarshal(body, &r); err != nil || code != 200 {
		return nil, fmt.Errorf("query %q: %d %s %v", q, code, r.Error, err)
	}
	return r.Data.Result, nil
}

// waitFor polls an instant query until it returns something.
func (l *loop) waitFor(q string) {
	l.t.Helper()
	simtest.Eventually(l.t, l.patience, func() error {
		v, err := l.query(q)
		if err != nil || len(v) == 0 {
			return fmt.Errorf("%s: nothing yet (%v)", q, err)
		}
		return nil
	})
}

// alertState returns "firing", "pending" or "" for an alert of Prometheus.
func (l *loop) alertState(name string) (string, error) {
	v, err := l.query(fmt.Sprintf(`ALERTS{alertname=%q}`, name))
	if err != nil {
		return "", err
	}
	state := ""
	for _, s := range v {
		labels, _ := s["metric"].(map[string]any)
		if st, _ := labels["alertstate"].(string); st == "firing" || state == "" {
			state = st
		}
	}
	return state, nil
}

// incident is an entry of the remediator's journal as its API returns it.
type incident = journal.Incident

// incidents lists the remediator's journal through its authenticated API.
func (l *loop) incidents() ([]incident, error) {
	req, _ := http.NewRequest(http.MethodGet, l.remediator+"/api/v1/incidents", nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("incidents: %d %s", resp.StatusCode, body)
	}
	var r struct{ Incidents []incident }
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	return r.Incidents, nil
}

// timeline is one recovery, measured from the fault.
type timeline struct {
	fault                                     time.Time
	firing, received, actionDone, healthy, ok time.Time
}

// fields is the timeline as key=seconds pairs, for bench/mttr.
func (tl timeline) fields() string {
	s := func(t time.Time) string { return fmt.Sprintf("%.1f", t.Sub(tl.fault).Seconds()) }
	return fmt.Sprintf("firing=%s received=%s action_done=%s healthy=%s resolved=%s",
		s(tl.firing), s(tl.received), s(tl.actionDone), s(tl.healthy), s(tl.ok))
}

func (tl timeline) String() string {
	s := func(t time.Time) string { return fmt.Sprintf("%.1fs", t.Sub(tl.fault).Seconds()) }
	return fmt.Sprintf("alert firing %s, webhook received %s, action done %s, healthy %s, alert resolved %s",
		s(tl.firing), s(tl.received), s(tl.actionDone), s(tl.healthy), s(tl.ok))
}

// recover waits for the whole loop after a fault: alert firing, incident
// with the expected action, action done and verified, gateway healthy, and
// the alert resolved. It returns the timeline.
func (l *loop) recover(fault time.Time, alert, action string, healthy func() error) timeline {
	t := l.t
	t.Helper()
	tl := timeline{fault: fault}
	simtest.Eventually(t, l.patience, func() error {
		st, err := l.alertState(alert)
		if err != nil || st != "firing" {
			return fmt.Errorf("%s is %q (%v)", alert, st, err)
		}
		tl.firing = time.Now()
		return nil
	})
	var inc incident
	simtest.Eventually(t, l.patience, func() error {
		incs, err := l.incidents()
		if err != nil {
			return err
		}
		// The incident that was acted on: while a slow restart runs, the
		// alert may resolve and fire again, and the remediator's cooldown
		// then refuses that second incident, which must not hide the first.
		var waiting []string
		for _, i := range incs {
			if i.AlertName == alert && i.Action == action && i.ReceivedAt.After(fault) {
				if tl.received.IsZero() {
					tl.received = time.Now()
				}
				if len(i.Actions) > 0 && i.Actions[len(i.Actions)-1].EndedAt != nil {
					inc = i
					return nil
				}
				waiting = append(waiting, fmt.Sprintf("%s: %s %s", i.ID, i.State, i.Decision))
			}
		}
		if len(waiting) > 0 {
			return fmt.Errorf("no finished action yet (incidents %v)", waiting)
		}
		return fmt.Errorf("no %s incident for %s yet (%d in the journal)", action, alert, len(incs))
	})
	last := inc.Actions[len(inc.Actions)-1]
	tl.actionDone = *last.EndedAt
	if last.Result != "success" {
		t.Fatalf("%s for %s ended %s: %s %s", action, alert, last.Result, last.Verification, last.Error)
	}
	simtest.Eventually(t, l.patience, func() error {
		if err := healthy(); err != nil {
			return err
		}
		tl.healthy = time.Now()
		return nil
	})
	simtest.Eventually(t, l.patience, func() error {
		st, err := l.alertState(alert)
		if err != nil || st != "" {
			return fmt.Errorf("%s still %q (%v)", alert, st, err)
		}
		tl.ok = time.Now()
		return nil
	})
	return tl
}

// simReady says whether the gateway at the simulator's port is ready.
func (l *loop) simReady() error {
	code, _, err := httpGet(l.sim.URL+"/readyz", time.Second)
	if err != nil || code != 200 {
		return fmt.Errorf("/readyz: %d %v", code, err)
	}
	return nil
}

// TestLoopHungGateway: the simulator hangs with its port open; the alert
// fires, Alertmanager routes it, the remediator restarts the gateway and
// verifies it, and the alert resolves.
// bench/mttr runs it repeatedly with either profile.
func TestLoopHungGateway(t *testing.T) {
	t.Parallel()
	p := profileFromEnv(t)
	l := startLoop(t, loopOptions{profile: p})
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"hang"}`)
	tl := l.recover(fault, "OpenClawGatewayHung", "restart", l.simReady)
	t.Logf("MTTR profile=%s %s", p.name, tl.fields())
	t.Logf("hung gateway (simulator, %s timings): %s", p.name, tl)
}

// TestLoopQuiet: a healthy stack through a minute of evaluations at demo
// windows fires nothing and the remediator receives nothing. Not parallel:
// its assertion is about the stack alone, so it runs before the other loops
// start (beside the fleet test's own process only).
func TestLoopQuiet(t *testing.T) {
	l := startLoop(t, loopOptions{})
	simtest.Eventually(t, 3*time.Minute, func() error {
		firing, err := l.query(`ALERTS{alertstate="firing"}`)
		if err != nil {
			return err
		}
		if len(firing) > 0 {
			t.Fatalf("alerts firing on a healthy stack: %v", firing)
		}
		v, err := l.query(`count_over_time(openclaw_gateway_up[2m]) >= 60`)
		if err != nil || len(v) == 0 {
			return fmt.Errorf("fewer than 60 evaluations so far (%v)", err)
		}
		return nil
	})
	incs, err := l.incidents()
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) > 0 {
		t.Errorf("the remediator received %d incidents from a healthy stack: %+v", len(incs), incs)
	}
}
