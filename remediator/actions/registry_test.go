package actions

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/clawwatch/clawwatch/remediator/config"
)

// The order is the metrics' and docs' order, so a new action comes last;
// names are unique and an alert label can name only actions without argv.
func TestRegistryNames(t *testing.T) {
	want := []string{"restart", "cleanup_locks", "cleanup_logs", "rollback", "exec"}
	if got := Names(); len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("Names() = %v, want %v first", got, want)
	}
	seen := map[string]bool{}
	for _, a := range registry {
		s := a.Spec()
		if seen[s.Name] || s.Name == "" || s.Name == None {
			t.Errorf("name %q is empty, none or taken", s.Name)
		}
		seen[s.Name] = true
		if s.ByLabel && s.Argv {
			t.Errorf("%s: an argv action must not be selectable by alert labels", s.Name)
		}
		if s.RecordsVersion && !s.Verified {
			t.Errorf("%s: records a healthy version without verifying health", s.Name)
		}
	}
	for _, name := range []string{"restart", "rollback", "exec"} {
		if !Disruptive(name) {
			t.Errorf("%s is not disruptive", name)
		}
	}
	for _, name := range []string{"cleanup_locks", "cleanup_logs", "none", "reboot"} {
		if Disruptive(name) {
			t.Errorf("%s is disruptive", name)
		}
	}
}

// Configuration validation reads the registry: it accepts every action and
// requires an argv exactly where the registry says.
func TestConfigValidationReadsTheRegistry(t *testing.T) {
	const target = "targets:\n  - name: default\n    driver: {kind: command, start: [/bin/true], stop: [/bin/true]}\n"
	for _, a := range registry {
		s := a.Spec()
		policy := "policies:\n  - name: p\n    matchers: ['a=\"b\"']\n    action: " + s.Name + "\n"
		if s.Argv {
			policy += "    exec: [/bin/true]\n"
		}
		if _, err := config.Parse([]byte(target+policy), t.TempDir(), ConfigSpecs()); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
	_, err := config.Parse([]byte(target+"policies:\n  - name: p\n    matchers: ['a=\"b\"']\n    action: reboot\n"), t.TempDir(), ConfigSpecs())
	if err == nil || !strings.Contains(err.Error(), strings.Join(Names(), ", ")) {
		t.Errorf("unknown action: %v, want the registry's names", err)
	}
}

// The default policies route exactly the actions alert labels may name.
func TestDefaultPoliciesCoverLabelActions(t *testing.T) {
	var got []string
	for _, p := range config.DefaultPolicies("remediation", ConfigSpecs()) {
		got = append(got, matcherActions(t, strings.Join(p.Matchers, ","))...)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(LabelNames()))
	if !slices.Equal(got, want) {
		t.Errorf("default policies route %v, the registry's label actions are %v", got, want)
	}
}

// The mixin's remediation labels name the registry's label actions, or
// none, and every label action has an alert.
func TestMixinRemediationLabelsAgree(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "mixin", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("mixin/alerts.yaml: %v", err)
	}
	used := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			v, ok := r.Labels["remediation"]
			if !ok {
				t.Errorf("mixin/alerts.yaml: alert %s has no remediation label", r.Alert)
				continue
			}
			if v == None {
				continue
			}
			if a, ok := Lookup(v); !ok || !a.Spec().ByLabel {
				t.Errorf("mixin/alerts.yaml: alert %s: remediation=%q is not an action alert labels may name (%v)", r.Alert, v, LabelNames())
			}
			used[v] = true
		}
	}
	for _, name := range LabelNames() {
		if !used[name] {
			t.Errorf("mixin/alerts.yaml: no alert has remediation=%q", name)
		}
	}
}

// routeMatchers route to the remediator every alert with a remediation
// label but "none", so that a new action needs no route of its own.
var routeMatchers = []string{`remediation=~".+"`, `remediation!="none"`}

// Alertmanager routes to the remediator every action an alert may name and
// nothing else, in the shipped configuration, the demo, the end-to-end loop
// and the README.
func TestRemediatorRoutesAgree(t *testing.T) {
	route := strings.Join(routeMatchers, ",")
	if got := matcherActions(t, route); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(append(Names(), "reboot")))) {
		t.Errorf("the route selects %v", got)
	}
	for _, f := range []string{"deploy/alertmanager/alertmanager.yml", "deploy/demo.sh", "e2e/loop_test.go", "README.md"} {
		data, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range routeMatchers {
			if !strings.Contains(string(data), m) {
				t.Errorf("%s: the remediator's route lacks %s", f, m)
			}
		}
	}
}

// matcherActions is the actions a remediation label matcher selects.
func matcherActions(t *testing.T, s string) []string {
	t.Helper()
	ms, err := config.ParseMatchers(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	var out []string
	for _, name := range append(Names(), None, "reboot") {
		if ms.Matches(model.LabelSet{"remediation": model.LabelValue(name)}) {
			out = append(out, name)
		}
	}
	return out
}
