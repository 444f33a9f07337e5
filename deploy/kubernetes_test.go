package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/clawwatch/clawwatch/internal/testing/testbin"
	"github.com/clawwatch/clawwatch/remediator/actions"
	remconfig "github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// overlays are the Kustomize overlays users apply: the exporter's include
// the base; the remediator's goes beside the sidecar one.
var overlays = []string{"kubernetes/overlays/sidecar", "kubernetes/overlays/central", "kubernetes/overlays/remediator"}

// build renders an overlay as kubectl apply -k would (kubectl 1.34 embeds
// kustomize/api v0.20).
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, r.CurId(), err)
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
	if len(out) == 0 {
		t.Fatalf("%s renders no objects", dir)
	}
	return out
}

// decodeStrict decodes obj into v, refusing any field v does not have.
func decodeStrict(obj *unstructured.Unstructured, v any) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// The prometheus-operator objects of every overlay decode strictly into
// prometheus-operator's own types, and the PrometheusRule's groups are valid
// rules for promtool.
func TestKubernetesMonitoringObjectsDecodeStrictly(t *testing.T) {
	seen := map[string]bool{}
	rules := map[string]monitoringv1.PrometheusRuleSpec{}
	for _, dir := range overlays {
		for _, obj := range build(t, dir) {
			name := dir + ": " + obj.GetKind() + "/" + obj.GetName()
			var err error
			switch obj.GetKind() {
			case monitoringv1.PrometheusRuleKind:
				var r monitoringv1.PrometheusRule
				if err = decodeStrict(obj, &r); err == nil {
					rules[name] = r.Spec
				}
			case monitoringv1.PodMonitorsKind:
				err = decodeStrict(obj, &monitoringv1.PodMonitor{})
			case monitoringv1.ServiceMonitorsKind:
				err = decodeStrict(obj, &monitoringv1.ServiceMonitor{})
			default:
				continue
			}
			seen[obj.GetKind()] = true
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	for _, kind := range []string{"PrometheusRule", "PodMonitor", "ServiceMonitor"} {
		if !seen[kind] {
			t.Errorf("no overlay has a %s", kind)
		}
	}
	for name, spec := range rules {
		checkRules(t, name, spec)
	}
}

// checkRules runs promtool check rules on the PrometheusRule's groups.
func checkRules(t *testing.T, name string, spec monitoringv1.PrometheusRuleSpec) {
	t.Helper()
	if len(spec.Groups) == 0 {
		t.Errorf("%s: no rule groups", name)
		return
	}
	data, err := yaml.Marshal(map[string]any{"groups": spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(testbin.Tool(t, "promtool"), "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("%s: promtool check rules: %v\n%s", name, err, out)
	}
}

// The remediator overlay's configuration loads, and its kubernetes target
// is the sidecar overlay's gateway Deployment, the one object its Role may
// change, with the Lease its claims use.
func TestKubernetesRemediatorOverlay(t *testing.T) {
	var cfgYAML string
	var role *unstructured.Unstructured
	for _, obj := range build(t, "kubernetes/overlays/remediator") {
		switch obj.GetKind() {
		case "ConfigMap":
			cfgYAML, _, _ = unstructured.NestedString(obj.Object, "data", "remediator.yml")
		case "Role":
			role = obj
		}
	}
	if cfgYAML == "" || role == nil {
		t.Fatal("the remediator overlay has no remediator.yml ConfigMap or no Role")
	}
	dir := t.TempDir()
	token := filepath.Join(dir, "OPENCLAW_GATEWAY_TOKEN")
	if err := os.WriteFile(token, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgYAML = strings.ReplaceAll(cfgYAML, "/etc/clawwatch/gateway/OPENCLAW_GATEWAY_TOKEN", token)
	cfg, err := remconfig.Parse([]byte(cfgYAML), dir, actions.ConfigSpecs())
	if err != nil {
		t.Fatalf("remediator.yml: %v", err)
	}
	var gateway string
	for _, obj := range build(t, "kubernetes/overlays/sidecar") {
		if obj.GetKind() == "Deployment" {
			gateway = obj.GetNamespace() + "/" + obj.GetName()
		}
	}
	d, ok := cfg.Targets[0].Driver.Spec.(*driver.KubernetesSpec)
	if !ok || d.Namespace+"/"+d.Deployment != gateway {
		t.Fatalf("the remediator's target is %s %+v, want the sidecar overlay's Deployment %s", cfg.Targets[0].Driver.Kind(), cfg.Targets[0].Driver.Spec, gateway)
	}
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	names := map[string][]string{}
	for _, r := range rules {
		rule := r.(map[string]any)
		res, _, _ := unstructured.NestedStringSlice(rule, "resources")
		rn, _, _ := unstructured.NestedStringSlice(rule, "resourceNames")
		for _, x := range res {
			names[x] = append(names[x], rn...)
		}
	}
	if !slices.Contains(names["deployments"], d.Deployment) || !slices.Contains(names["leases"], driver.LeaseName(d.Deployment)) {
		t.Errorf("the Role names deployments %q and leases %q; the driver changes Deployment %s and claims on Lease %s",
			names["deployments"], names["leases"], d.Deployment, driver.LeaseName(d.Deployment))
	}
}
