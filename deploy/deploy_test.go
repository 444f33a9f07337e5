// Package deploy holds the configuration of the compose stack. Docker cannot
// run here, so these tests load docker-compose.yml with compose-go the way
// `docker compose` does and check the Prometheus and Alertmanager configs
// with the real promtool and amtool, with every path the containers see
// mapped back to the file compose would mount.
package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/prometheus/alertmanager/pkg/labels"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v2"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// ownImage is the image docker-compose.yml builds from the Dockerfile.
const ownImage = "clawwatch:local"

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeProject(t *testing.T) {
	p := loadProject(t)
	want := []string{"alertmanager", "exporter", "gateway", "grafana", "pod", "prometheus", "remediator"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for name := range p.Services {
			if !yield(name) {
				return
			}
		}
	}); !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}

	for name, s := range p.Services {
		// Third-party images are pinned; ours is built from this checkout
		// by the pod service and reused by the others.
		switch {
		case s.Image == ownImage:
			if p.Services["pod"].Build == nil {
				t.Errorf("%s: uses %s, which no service builds", name, ownImage)
			}
		case s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":"):
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %s published on %q, want loopback only", name, port.Published, port.HostIP)
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind || v.Source == "/var/run/docker.sock" {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: mounts %s, which does not exist: %v", name, v.Source, err)
			}
		}
	}

	// The exporter and the gateway share the pod's namespaces, so that
	// discovery by port and /proc work and survive a gateway restart.
	for _, name := range []string{"gateway", "exporter"} {
		s := p.Services[name]
		if s.NetworkMode != "service:pod" || s.Pid != "service:pod" {
			t.Errorf("%s: network_mode %q pid %q, want both service:pod", name, s.NetworkMode, s.Pid)
		}
	}
	if p.Services["gateway"].ContainerName == "" {
		t.Error("gateway: needs a container_name for the remediator's docker driver")
	}
	if !mounts(p.Services["remediator"], "/var/run/docker.sock") {
		t.Error("remediator: the docker driver needs /var/run/docker.sock")
	}
	for _, f := range []string{"mixin/alerts.yaml", "mixin/rules.yaml"} {
		if !mountsSource(p, p.Services["prometheus"], f) {
			t.Errorf("prometheus: does not load the generated %s", f)
		}
	}
	if !mountsSource(p, p.Services["grafana"], "dashboards") {
		t.Error("grafana: does not mount the generated dashboards")
	}
}

func mounts(s types.ServiceConfig, target string) bool {
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == target })
}

func mountsSource(p *types.Project, s types.ServiceConfig, rel string) bool {
	src := filepath.Join(p.WorkingDir, rel)
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Source == src })
}

// hostView rewrites a config file of a service so that every container path
// it names is the file compose mounts there, and returns the rewritten copy.
func hostView(t *testing.T, s types.ServiceConfig, containerPath string) string {
	t.Helper()
	var src string
	var pairs []string
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if v.Target == containerPath {
			src = v.Source
		}
		pairs = append(pairs, v.Target, v.Source)
	}
	if src == "" {
		t.Fatalf("%s: nothing mounted at %s", s.Name, containerPath)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(out, []byte(strings.NewReplacer(pairs...).Replace(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrometheusConfig(t *testing.T) {
	p := loadProject(t)
	promtool := testbin.Tool(t, "promtool")
	cfg := hostView(t, p.Services["prometheus"], "/etc/prometheus/prometheus.yml")
	out, err := exec.Command(promtool, "check", "config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	// The rule files are found (through the mounts) and checked too.
	if !strings.Contains(string(out), "alerts.yaml") || !strings.Contains(string(out), "rules.yaml") {
		t.Errorf("promtool did not check the mixin's rule files:\n%s", out)
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	p := loadProject(t)
	amtool := testbin.Tool(t, "amtool")
	cfg := hostView(t, p.Services["alertmanager"], "/etc/alertmanager/alertmanager.yml")
	out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
}

// TestAlertmanagerPeopleExamples: the email, WeChat and webhook examples of
// the people receiver, uncommented as a user would, are a valid config.
func TestAlertmanagerPeopleExamples(t *testing.T) {
	amtool := testbin.Tool(t, "amtool")
	data, err := os.ReadFile("alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	uncommented := uncomment(data)
	var c struct {
		Receivers []map[string]any `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(uncommented, &c); err != nil {
		t.Fatalf("uncommented config: %v\n%s", err, uncommented)
	}
	for _, r := range c.Receivers {
		if r["name"] != "people" {
			continue
		}
		for _, k := range []string{"webhook_configs", "email_configs", "wechat_configs"} {
			if r[k] == nil {
				t.Errorf("people: no %s example", k)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(path, uncommented, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(amtool, "check-config", path).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config with the examples: %v\n%s", err, out)
	}
}

// commentedYAML is a commented YAML line, not a comment in words: "# key:"
// or "#   - key:".
var commentedYAML = regexp.MustCompile(`(?m)^(\s*)# (\s*(?:- )?[a-z_]+:.*)$`)

// uncomment uncomments the examples of an Alertmanager config as a user would.
func uncomment(data []byte) []byte {
	return commentedYAML.ReplaceAll(data, []byte("$1$2"))
}

// TestAlertmanagerPeopleMessages: the shipped config loads
// templates/clawwatch.tmpl where compose mounts it, and the email and WeChat
// examples of the people receiver render with it, Alertmanager's own
// template code, a message that links every alert to its runbook and an
// alert the remediator acts on to its incident in the console.
func TestAlertmanagerPeopleMessages(t *testing.T) {
	p := loadProject(t)
	amtool := testbin.Tool(t, "amtool")
	cfgPath := hostView(t, p.Services["alertmanager"], "/etc/alertmanager/alertmanager.yml")
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, uncomment(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(amtool, "check-config", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("amtool check-config with the examples: %v\n%s", err, out)
	}
	var c struct {
		Templates []string `yaml:"templates"`
		Receivers []struct {
			Name   string `yaml:"name"`
			Emails []struct {
				Headers map[string]string `yaml:"headers"`
				Text    string            `yaml:"text"`
				HTML    string            `yaml:"html"`
			} `yaml:"email_configs"`
			WeChats []struct {
				Message string `yaml:"message"`
			} `yaml:"wechat_configs"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(uncomment(data), &c); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, g := range c.Templates {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	want, _ := filepath.Abs("alertmanager/templates/clawwatch.tmpl")
	if !slices.Contains(files, want) {
		t.Fatalf("templates %v load %v, not %s (is the directory mounted?)", c.Templates, files, want)
	}
	tmpl, err := amtemplate.FromGlobs(c.Templates)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	alert := func(name, remediation, fp string) amtemplate.Alert {
		return amtemplate.Alert{Status: "firing", Fingerprint: fp, StartsAt: start,
			Labels:      amtemplate.KV{"alertname": name, "severity": "critical", "remediation": remediation, "gateway": "default", "instance": "host:9787"},
			Annotations: amtemplate.KV{"description": name + " on default.", "runbook_url": "https://runbooks.example/#" + strings.ToLower(name)}}
	}
	msg := &amtemplate.Data{Status: "firing", Receiver: "people",
		Alerts:       amtemplate.Alerts{alert("OpenClawGatewayHung", "restart", "aaaa000000000001"), alert("OpenClawModelServerDown", "none", "bbbb000000000002")},
		CommonLabels: amtemplate.KV{"gateway": "default"}}
	incident := "http://localhost:9788/console/alerts/aaaa000000000001/2026-12-06T14:00:00Z"
	check := func(what, text string) {
		t.Helper()
		for _, s := range []string{"OpenClawGatewayHung", "https://runbooks.example/#openclawgatewayhung", incident,
			"OpenClawModelServerDown", "https://runbooks.example/#openclawmodelserverdown"} {
			if !strings.Contains(text, s) {
				t.Errorf("%s does not say %s:\n%s", what, s, text)
			}
		}
		if strings.Contains(text, "bbbb000000000002") {
			t.Errorf("%s links an alert the remediator does not take to an incident:\n%s", what, text)
		}
	}
	n := 0
	for _, r := range c.Receivers {
		if r.Name != "people" {
			continue
		}
		for _, e := range r.Emails {
			subject, err := tmpl.ExecuteTextString(e.Headers["subject"], msg)
			if err != nil || subject != "[FIRING:2] on gateway default" {
				t.Errorf("email subject %q: %q %v", e.Headers["subject"], subject, err)
			}
			text, err := tmpl.ExecuteTextString(e.Text, msg)
			if err != nil {
				t.Fatalf("email text %q: %v", e.Text, err)
			}
			check("email text", text)
			html, err := tmpl.ExecuteHTMLString(e.HTML, msg)
			if err != nil {
				t.Fatalf("email html %q: %v", e.HTML, err)
			}
			check("email html", html)
			n++
		}
		for _, w := range r.WeChats {
			text, err := tmpl.ExecuteTextString(w.Message, msg)
			if err != nil {
				t.Fatalf("wechat message %q: %v", w.Message, err)
			}
			check("wechat message", text)
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d email and WeChat examples in the people receiver, want 2", n)
	}
}

// mixinAlert is an alert of the generated mixin with the labels it fires
// with on a gateway.
type mixinAlert struct {
	name   string
	labels model.LabelSet
}

// mixinAlerts reads every alerting rule of mixin/alerts.yaml.
func mixinAlerts(t *testing.T) []mixinAlert {
	t.Helper()
	data, err := os.ReadFile("../mixin/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation)
	if len(errs) > 0 {
		t.Fatalf("mixin/alerts.yaml: %v", errs)
	}
	var alerts []mixinAlert
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			ls := model.LabelSet{"alertname": model.LabelValue(r.Alert), "job": "openclaw", "instance": "host:9787", "gateway": "default"}
			for k, v := range r.Labels {
				ls[model.LabelName(k)] = model.LabelValue(v)
			}
			alerts = append(alerts, mixinAlert{r.Alert + "/" + r.Labels["severity"], ls})
		}
	}
	if len(alerts) < 30 {
		t.Fatalf("only %d alerts in mixin/alerts.yaml", len(alerts))
	}
	return alerts
}

// escalations are the remediator's alerts that need a person soon.
var escalations = []string{"OpenClawRemediatorCircuitOpen", "OpenClawRemediatorActionsFailing", "OpenClawRemediatorJournalErrors", "OpenClawRemediatorUpgradeFailed"}

// TestAlertmanagerRoutesEveryAlert asks the real amtool where each alert of
// the mixin goes: every one to people, those that name an action to the
// remediator as well. amtool does not print timings, so the test walks the
// routes itself too, checks that it reaches amtool's receivers, and reads
// how soon the remediator hears and how often people are reminded.
func TestAlertmanagerRoutesEveryAlert(t *testing.T) {
	p := loadProject(t)
	amtool := testbin.Tool(t, "amtool")
	cfgPath := hostView(t, p.Services["alertmanager"], "/etc/alertmanager/alertmanager.yml")
	cfg := loadAlertmanager(t, cfgPath)
	alerts := mixinAlerts(t)
	for _, e := range escalations {
		if !slices.ContainsFunc(alerts, func(a mixinAlert) bool { return string(a.labels["alertname"]) == e }) {
			t.Errorf("%s is no alert of the mixin any more", e)
		}
	}
	for _, a := range alerts {
		want := "people"
		if a.labels["remediation"] != "none" {
			want = "remediator,people"
		}
		args := []string{"config", "routes", "test", "--config.file=" + cfgPath}
		for k, v := range a.labels {
			args = append(args, fmt.Sprintf("%s=%s", k, v))
		}
		out, err := exec.Command(amtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool %v: %v\n%s", args, err, out)
		}
		receivers := strings.TrimSpace(string(out))
		if receivers != want {
			t.Errorf("%s (remediation=%s) goes to %q, want %q", a.name, a.labels["remediation"], receivers, want)
		}

		// Alertmanager's defaults above the root.
		routes := cfg.Route.match(t, a.labels, route{GroupWait: "30s", RepeatInterval: "4h"})
		var names []string
		for _, r := range routes {
			names = append(names, r.Receiver)
		}
		if got := strings.Join(names, ","); got != receivers {
			t.Fatalf("%s: this test's walk of the routes gives %q, amtool %q", a.name, got, receivers)
		}
		last := routes[len(routes)-1]
		if slices.Contains(escalations, string(a.labels["alertname"])) {
			if d := duration(t, last.RepeatInterval); d > 30*time.Minute {
				t.Errorf("%s: people are reminded every %s, want at most 30m", a.name, d)
			}
		} else if d := duration(t, last.RepeatInterval); d < time.Hour {
			t.Errorf("%s: people are reminded every %s, a page storm", a.name, d)
		}
		if routes[0].Receiver == "remediator" && duration(t, routes[0].GroupWait) > 10*time.Second {
			t.Errorf("%s: the remediator waits %s for its first notification", a.name, routes[0].GroupWait)
		}
	}
}

// alertmanagerConfig is what these tests read of an Alertmanager config.
type alertmanagerConfig struct {
	Route        route `yaml:"route"`
	InhibitRules []struct {
		SourceMatchers []string `yaml:"source_matchers"`
		TargetMatchers []string `yaml:"target_matchers"`
		Equal          []string `yaml:"equal"`
	} `yaml:"inhibit_rules"`
}

type route struct {
	Receiver       string   `yaml:"receiver"`
	Matchers       []string `yaml:"matchers"`
	Continue       bool     `yaml:"continue"`
	GroupWait      string   `yaml:"group_wait"`
	RepeatInterval string   `yaml:"repeat_interval"`
	Routes         []route  `yaml:"routes"`
}

func loadAlertmanager(t *testing.T, path string) alertmanagerConfig {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c alertmanagerConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// matchers parses matchers the way Alertmanager's config does.
func matchers(t *testing.T, ms []string) labels.Matchers {
	t.Helper()
	var out labels.Matchers
	for _, m := range ms {
		pm, err := labels.ParseMatcher(m)
		if err != nil {
			t.Fatalf("matcher %q: %v", m, err)
		}
		out = append(out, pm)
	}
	return out
}

// match walks the routing tree as Alertmanager's dispatcher does: the
// first matching child wins unless it continues, a node no child matches
// is the match itself, and children inherit their parent's timings.
func (r route) match(t *testing.T, ls model.LabelSet, parent route) []route {
	if r.GroupWait == "" {
		r.GroupWait = parent.GroupWait
	}
	if r.RepeatInterval == "" {
		r.RepeatInterval = parent.RepeatInterval
	}
	if r.Receiver == "" {
		r.Receiver = parent.Receiver
	}
	if !matchers(t, r.Matchers).Matches(ls) {
		return nil
	}
	var all []route
	for _, c := range r.Routes {
		m := c.match(t, ls, r)
		all = append(all, m...)
		if m != nil && !c.Continue {
			break
		}
	}
	if len(all) == 0 {
		all = []route{r}
	}
	return all
}

func duration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return time.Duration(d)
}

// Which alerts of the mixin silence which on the same gateway: a critical
// alert the warning of the same alert, and a gateway that is down or hung
// what it causes (probes and readiness, RPC and what the health RPC reports,
// reasoning quality).
var (
	causes   = []string{"OpenClawGatewayDown", "OpenClawGatewayHung"}
	symptoms = []string{
		"OpenClawGatewayNotReady", "OpenClawGatewayProbeLatencyHigh", "OpenClawGatewayProbeFailuresHigh",
		"OpenClawGatewayEventLoopLagHigh", "OpenClawGatewayEventLoopDegraded",
		"OpenClawGatewayRPCHung", "OpenClawGatewayRPCProbeFailing", "OpenClawGatewayChannelDisconnected",
		"OpenClawGatewayChannelDisconnectedPersistent", "OpenClawGatewaySafeMode", "OpenClawGatewayChannelHeldBySafeMode",
		"OpenClawGatewayModelRuntimeDegraded", "OpenClawGatewayPluginsFailing",
		"OpenClawReasoningDegraded", "OpenClawReasoningDegradedAfterUpgrade",
	}
)

// wantMuted says whether source silences target on the same gateway.
func wantMuted(source, target model.LabelSet) bool {
	sn, tn := string(source["alertname"]), string(target["alertname"])
	return (sn == tn && source["severity"] == "critical" && target["severity"] == "warning") ||
		(slices.Contains(causes, sn) && slices.Contains(symptoms, tn))
}

// TestAlertmanagerInhibitions evaluates the inhibit rules on every pair of
// the mixin's alerts, on one gateway and on two: what wantMuted says is
// silenced and nothing else; in particular an alert the remediator acts on
// is silenced only by one that takes the same action, but for the rollback
// of OpenClawReasoningDegradedAfterUpgrade, which waits for the restart of a
// gateway that is down or hung.
func TestAlertmanagerInhibitions(t *testing.T) {
	cfg := loadAlertmanager(t, "alertmanager/alertmanager.yml")
	mutes := func(source, target model.LabelSet) bool {
		for _, r := range cfg.InhibitRules {
			if !matchers(t, r.SourceMatchers).Matches(source) || !matchers(t, r.TargetMatchers).Matches(target) {
				continue
			}
			if !slices.ContainsFunc(r.Equal, func(l string) bool { return source[model.LabelName(l)] != target[model.LabelName(l)] }) {
				return true
			}
		}
		return false
	}
	alerts := mixinAlerts(t)
	for _, name := range append(slices.Clone(causes), symptoms...) {
		if !slices.ContainsFunc(alerts, func(a mixinAlert) bool { return string(a.labels["alertname"]) == name }) {
			t.Errorf("%s is no alert of the mixin any more", name)
		}
	}
	pairs := 0
	for _, s := range alerts {
		for _, tg := range alerts {
			if s.name == tg.name {
				continue
			}
			want := wantMuted(s.labels, tg.labels)
			if got := mutes(s.labels, tg.labels); got != want {
				t.Errorf("%s silences %s: %v, want %v", s.name, tg.name, got, want)
			}
			if want {
				pairs++
				r := tg.labels["remediation"]
				// A rollback, and a channel's restart, wait for the restart
				// of a gateway that is down or hung: it may cure them, and
				// neither can work on a gateway that does not answer.
				waits := (r == "rollback" || r == "restart_channel") && s.labels["remediation"] == "restart"
				if r != "none" && r != s.labels["remediation"] && !waits {
					t.Errorf("%s silences %s, whose action %s it does not take", s.name, tg.name, r)
				}
			}
			// Another gateway's alert silences nothing.
			other := s.labels.Clone()
			other["gateway"] = "other"
			if mutes(other, tg.labels) {
				t.Errorf("%s on another gateway silences %s", s.name, tg.name)
			}
		}
	}
	if pairs < len(causes)*len(symptoms)+1 {
		t.Errorf("only %d inhibited pairs", pairs)
	}
}

// TestAlertmanagerInhibitsForReal runs the real Alertmanager with the
// shipped config and, for every inhibit rule, every source alert of the
// mixin it matches and every target alert it matches (on the labels the
// rule holds equal, but for the gateway), adds with the real
// amtool the source and the target on one gateway and the target on
// another; amtool then reports the first target suppressed by the source,
// and the other target and the source active.
func TestAlertmanagerInhibitsForReal(t *testing.T) {
	p := loadProject(t)
	amtool := testbin.Tool(t, "amtool")
	cfgPath := hostView(t, p.Services["alertmanager"], "/etc/alertmanager/alertmanager.yml")
	cfg := loadAlertmanager(t, cfgPath)
	// The remediator's webhook goes to a stand-in that takes everything.
	remediator := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(remediator.Close)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "http://remediator:9788") != 1 {
		t.Fatal("alertmanager.yml: the remediator's URL is not http://remediator:9788")
	}
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(data), "http://remediator:9788", remediator.URL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	url := startAlertmanager(t, cfgPath)

	type key struct{ alertname, severity, gateway string }
	muted := map[key]string{} // target on the source's gateway → the source
	active := map[key]bool{}  // must not be suppressed
	var add [][]string        // amtool alert add arguments
	alerts := mixinAlerts(t)
	n := 0
	for i, r := range cfg.InhibitRules {
		src, tgt := matchers(t, r.SourceMatchers), matchers(t, r.TargetMatchers)
		covered := 0
		for _, s := range alerts {
			if !src.Matches(s.labels) {
				continue
			}
			for _, tg := range alerts {
				if s.name == tg.name || !tgt.Matches(tg.labels) {
					continue
				}
				// Alerts that differ in a label the rule holds equal,
				// other than the gateway they are put on (alertname, for
				// a critical and a warning), are no pair of the rule.
				if slices.ContainsFunc(r.Equal, func(l string) bool {
					return l != "gateway" && s.labels[model.LabelName(l)] != tg.labels[model.LabelName(l)]
				}) {
					continue
				}
				if !wantMuted(s.labels, tg.labels) {
					t.Errorf("inhibit_rules[%d]: %s would silence %s", i, s.name, tg.name)
					continue
				}
				covered++
				n++
				gw, other := fmt.Sprintf("pair%d", n), fmt.Sprintf("pair%d-other", n)
				for _, a := range []struct {
					labels model.LabelSet
					gw     string
				}{{s.labels, gw}, {tg.labels, gw}, {tg.labels, other}} {
					ls := a.labels.Clone()
					ls["gateway"] = model.LabelValue(a.gw)
					args := []string{"alert", "add", "--alertmanager.url=" + url, "--no-version-check"}
					for k, v := range ls {
						args = append(args, fmt.Sprintf("%s=%s", k, v))
					}
					add = append(add, args)
				}
				muted[key{string(tg.labels["alertname"]), string(tg.labels["severity"]), gw}] = s.name
				active[key{string(tg.labels["alertname"]), string(tg.labels["severity"]), other}] = true
				active[key{string(s.labels["alertname"]), string(s.labels["severity"]), gw}] = true
			}
		}
		if covered == 0 {
			t.Errorf("inhibit_rules[%d] silences no pair of the mixin's alerts", i)
		}
	}
	if t.Failed() {
		return
	}
	for _, args := range add {
		if out, err := exec.Command(amtool, args...).CombinedOutput(); err != nil {
			t.Fatalf("amtool %v: %v\n%s", args, err, out)
		}
	}

	// The inhibitor learns of sources asynchronously: poll until every
	// target that must be silenced is, then read the rest of that answer.
	var got []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State       string   `json:"state"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	simtest.Eventually(t, 30*time.Second, func() error {
		out, err := exec.Command(amtool, "alert", "query", "--alertmanager.url="+url, "--no-version-check",
			"--output=json", "--inhibited", "--active").Output()
		if err != nil {
			return fmt.Errorf("amtool alert query: %w", err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			return fmt.Errorf("amtool alert query: %w", err)
		}
		if len(got) != len(muted)+len(active) {
			return fmt.Errorf("%d alerts, want %d", len(got), len(muted)+len(active))
		}
		for _, a := range got {
			k := key{a.Labels["alertname"], a.Labels["severity"], a.Labels["gateway"]}
			if src, ok := muted[k]; ok && a.Status.State != "suppressed" {
				return fmt.Errorf("%s/%s is %s beside %s", k.alertname, k.severity, a.Status.State, src)
			}
		}
		return nil
	})
	for _, a := range got {
		k := key{a.Labels["alertname"], a.Labels["severity"], a.Labels["gateway"]}
		if active[k] && (a.Status.State != "active" || len(a.Status.InhibitedBy) > 0) {
			t.Errorf("%s/%s on %s is %s (inhibited by %v), want active", k.alertname, k.severity, k.gateway, a.Status.State, a.Status.InhibitedBy)
		}
	}
	t.Logf("%d pairs of the %d inhibit rules, each muted on its gateway and not on another", n, len(cfg.InhibitRules))
}

// startAlertmanager runs the real Alertmanager with config on a free
// loopback port until the test ends, and returns its URL once it is ready.
func startAlertmanager(t *testing.T, config string) string {
	t.Helper()
	port := simtest.FreePort(t)
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testbin.Tool(t, "alertmanager"), "--config.file="+config,
		"--storage.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
		if t.Failed() {
			out, _ := os.ReadFile(log.Name())
			t.Logf("alertmanager output:\n%s", out)
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	simtest.Eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	return url
}
