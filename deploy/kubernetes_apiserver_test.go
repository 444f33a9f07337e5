package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/clawwatch/clawwatch/internal/testing/kube"
)

// warnings collects what the API server warns about: an unknown or
// duplicate field is a warning under server-side apply's default field
// validation, and a failure here.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(code int, agent, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.list
	w.list = nil
	return l
}

// Every object of every overlay is accepted by a real kube-apiserver with
// prometheus-operator's CRDs installed: server-side apply as a dry run, then
// for real, then read back.
func TestKubernetesManifestsApplyToARealAPIServer(t *testing.T) {
	crds := operatorCRDs(t)
	c := kube.Start(t)
	warn := &warnings{}
	cfg := c.Config(warn)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	apply := func(obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gvk, err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
		}
		opts := metav1.ApplyOptions{FieldManager: "clawwatch-test"}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		return ri.Apply(ctx, obj.GetName(), obj, opts)
	}
	get := func(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, err
		}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			return dyn.Resource(m.Resource).Namespace(obj.GetNamespace()).Get(ctx, obj.GetName(), metav1.GetOptions{})
		}
		return dyn.Resource(m.Resource).Get(ctx, obj.GetName(), metav1.GetOptions{})
	}

	for _, crd := range crds {
		if _, err := apply(crd, false); err != nil {
			t.Fatalf("CRD %s: %v", crd.GetName(), err)
		}
	}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, crd := range crds {
		established(t, ctx, dyn.Resource(crdGVR), crd.GetName())
	}
	mapper.Reset()
	warn.take() // the CRDs' own

	for _, dir := range overlays {
		objs := build(t, dir)
		var namespaces []string
		for _, obj := range objs {
			if ns := obj.GetNamespace(); ns != "" && !slices.Contains(namespaces, ns) {
				namespaces = append(namespaces, ns)
			}
		}
		for _, ns := range namespaces { // as OpenClaw's deploy.sh creates it
			nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
			if _, err := apply(nsObj, false); err != nil {
				t.Fatalf("namespace %s: %v", ns, err)
			}
		}
		for _, obj := range objs {
			name := dir + ": " + obj.GetKind() + "/" + obj.GetName()
			for _, dryRun := range []bool{true, false} {
				if _, err := apply(obj, dryRun); err != nil {
					t.Errorf("%s: apply (dry run %v): %v", name, dryRun, err)
				}
				if w := warn.take(); len(w) > 0 {
					t.Errorf("%s: apply (dry run %v) warned: %s", name, dryRun, strings.Join(w, "; "))
				}
			}
			back, err := get(obj)
			if err != nil {
				t.Errorf("%s: read back: %v", name, err)
				continue
			}
			checkReadBack(t, name, obj, back)
		}
	}
	t.Logf("control plane started in %s", c.Started.Round(time.Millisecond))
}

// checkReadBack compares what was applied with what the server stored: every
// field written is there with the value written (the server may add
// defaults, never drop or change a field).
func checkReadBack(t *testing.T, name string, sent, back *unstructured.Unstructured) {
	t.Helper()
	for _, key := range []string{"spec", "data"} {
		want, ok := sent.Object[key]
		if !ok {
			continue
		}
		if path, ok := subset(want, back.Object[key], key); !ok {
			t.Errorf("%s: read back differs at %s", name, path)
		}
	}
	for k, v := range sent.GetLabels() {
		if back.GetLabels()[k] != v {
			t.Errorf("%s: label %s read back as %q, not %q", name, k, back.GetLabels()[k], v)
		}
	}
}

// subset reports whether every field of want is in got with the same value.
func subset(want, got any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		for k, v := range w {
			if p, ok := subset(v, g[k], path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path, false
		}
		for i := range w {
			if p, ok := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	default:
		// Numbers come back as int64 or float64 whatever they were sent as.
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return path, false
		}
		return "", true
	}
}

// established waits for a CRD to be served.
func established(t *testing.T, ctx context.Context, ri dynamic.ResourceInterface, name string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		crd, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, c := range conds {
				if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
					return
				}
			}
		} else if !apierrors.IsNotFound(err) {
			t.Fatalf("CRD %s: %v", name, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRD %s not established within a minute", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// operatorCRDs reads prometheus-operator's CRDs from its module, at the
// version of the monitoring API module this repository requires, from the
// Go module cache (downloaded through the module proxy when missing).
func operatorCRDs(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	version := moduleVersion(t, "../go.mod", "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring")
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/prometheus-operator/prometheus-operator@"+version)
	cmd.Dir = os.TempDir() // outside this module: its go.sum does not list the whole operator
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download prometheus-operator@%s: %v", version, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download prometheus-operator@%s: no directory in %s", version, out)
	}
	files, err := filepath.Glob(filepath.Join(mod.Dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s/example/prometheus-operator-crd (%v)", mod.Dir, err)
	}
	var crds []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(data, &obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		crds = append(crds, &unstructured.Unstructured{Object: obj})
	}
	return crds
}
