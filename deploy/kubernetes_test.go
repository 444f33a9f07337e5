package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/clawwatch/clawwatch/internal/testbin"
)

// overlays are the Kustomize overlays users apply; each includes the base.
var overlays = []string{"kubernetes/overlays/sidecar", "kubernetes/overlays/central"}

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
