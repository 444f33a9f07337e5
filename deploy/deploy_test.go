// Package deploy holds the configuration of the compose stack. Docker cannot
// run here, so these tests load docker-compose.yml with compose-go the way
// `docker compose` does and check the Prometheus and Alertmanager configs
// with the real promtool and amtool, with every path the containers see
// mapped back to the file compose would mount.
package deploy

import (
	"context"
	"fmt"
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
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v2"

	"github.com/clawwatch/clawwatch/internal/testbin"
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
	// A commented YAML line, not a comment in words: "# key:" or "#   - key:".
	commentedYAML := regexp.MustCompile(`(?m)^(\s*)# (\s*(?:- )?[a-z_]+:.*)$`)
	uncommented := commentedYAML.ReplaceAll(data, []byte("$1$2"))
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

// TestAlertmanagerInhibitions evaluates the inhibit rules on every pair of
// the mixin's alerts, on one gateway and on two: a critical alert silences
// the warning of the same alert and gateway, a down or hung gateway its
// symptoms on that gateway, and nothing else is silenced; in particular no
// alert the remediator acts on is silenced by one that does not restart the
// gateway as well.
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
	symptoms := []string{"OpenClawGatewayNotReady", "OpenClawGatewayProbeLatencyHigh", "OpenClawGatewayProbeFailuresHigh",
		"OpenClawGatewayEventLoopLagHigh", "OpenClawGatewayEventLoopDegraded"}
	causes := []string{"OpenClawGatewayDown", "OpenClawGatewayHung"}
	alerts := mixinAlerts(t)
	pairs := 0
	for _, s := range alerts {
		for _, tg := range alerts {
			if s.name == tg.name {
				continue
			}
			sn, tn := string(s.labels["alertname"]), string(tg.labels["alertname"])
			want := (sn == tn && s.labels["severity"] == "critical" && tg.labels["severity"] == "warning") ||
				(slices.Contains(causes, sn) && slices.Contains(symptoms, tn))
			if got := mutes(s.labels, tg.labels); got != want {
				t.Errorf("%s silences %s: %v, want %v", s.name, tg.name, got, want)
			}
			if want {
				pairs++
				if r := tg.labels["remediation"]; r != "none" && r != s.labels["remediation"] {
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
	for _, c := range causes {
		for _, sy := range symptoms {
			if !slices.ContainsFunc(alerts, func(a mixinAlert) bool { return string(a.labels["alertname"]) == sy }) ||
				!slices.ContainsFunc(alerts, func(a mixinAlert) bool { return string(a.labels["alertname"]) == c }) {
				t.Errorf("%s or %s is no alert of the mixin any more", c, sy)
			}
		}
	}
	if pairs < len(causes)*len(symptoms)+1 {
		t.Errorf("only %d inhibited pairs", pairs)
	}
}
