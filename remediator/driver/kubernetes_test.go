package driver_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/clawwatch/clawwatch/internal/testing/kube"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// A single-replica StatefulSet on a real control plane: a restart evicts
// its pod through the Eviction API and waits for the replacement to be
// Ready; a PodDisruptionBudget that allows no disruption refuses it, in the
// API server's words, with the pod left alone; a rollback puts a recorded
// ControllerRevision's template back.
func TestKubernetesStatefulSet(t *testing.T) {
	c := kube.Start(t)
	c.Workloads(t)
	admin, err := kubernetes.NewForConfig(c.Config(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const ns, name = "gateways", "openclaw"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": name}
	one := int32(1)
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &one, ServiceName: name,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{NodeName: kube.NodeName, Containers: []corev1.Container{{Name: "gateway", Image: "openclaw:2026.9.4"}}},
			},
		},
	}
	if _, err := admin.AppsV1().StatefulSets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := func() *corev1.Pod {
		p, err := admin.CoreV1().Pods(ns).Get(ctx, name+"-0", metav1.GetOptions{})
		if err != nil {
			return nil
		}
		return p
	}
	readyPod := func(image string) *corev1.Pod {
		var p *corev1.Pod
		simtest.Eventually(t, 2*time.Minute, func() error {
			if p = pod(); p == nil || p.DeletionTimestamp != nil || !ready(p) || p.Spec.Containers[0].Image != image {
				return fmt.Errorf("pod %s-0 not Ready on %s: %+v", name, image, p)
			}
			return nil
		})
		return p
	}
	first := readyPod("openclaw:2026.9.4")

	k := &driver.Kubernetes{Client: admin, Namespace: ns, Kind: driver.KindStatefulSet, Name: name, Poll: 100 * time.Millisecond}
	var healthy string
	simtest.Eventually(t, time.Minute, func() error {
		healthy, err = k.Revision(ctx)
		return err
	})
	out, err := k.Restart(ctx)
	if err != nil || !strings.Contains(out, "evicted pod openclaw-0") || !strings.Contains(out, "recreated and Ready") {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	if p := pod(); p == nil || p.UID == first.UID {
		t.Fatalf("the pod was not replaced: %+v", p)
	}
	t.Logf("restart:\n%s", out)

	zero := intstr.FromInt32(0)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &zero, Selector: &metav1.LabelSelector{MatchLabels: labels}}}
	if _, err := admin.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := readyPod("openclaw:2026.9.4")
	out, err = k.Restart(ctx)
	if !errors.Is(err, driver.ErrRefused) || !strings.Contains(err.Error(), "refused by its disruption budget") {
		t.Fatalf("restart under a budget that allows no disruption: %v\n%s", err, out)
	}
	if p := pod(); p == nil || p.UID != before.UID {
		t.Fatalf("a refused eviction replaced the pod")
	}
	t.Logf("refused: %v", err)
	if err := admin.PolicyV1().PodDisruptionBudgets(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"gateway","image":"openclaw:2026.9.6"}]}}}}`
	if _, err := admin.AppsV1().StatefulSets(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	readyPod("openclaw:2026.9.6")
	out, err = k.Revert(ctx, healthy)
	if err != nil || !strings.Contains(out, "rollout undo of StatefulSet gateways/openclaw to ControllerRevision "+healthy) {
		t.Fatalf("revert: %v\n%s", err, out)
	}
	readyPod("openclaw:2026.9.4")
	t.Logf("revert:\n%s", out)

	// Stopping a workload is not the remediator's.
	if _, err := k.Stop(ctx, time.Second); !errors.Is(err, driver.ErrRefused) {
		t.Fatalf("stop: %v", err)
	}
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Claims on a real API server: one holder at a time; a claim released done
// is "done by" for the others and a new claim (a retry) for its holder; a
// claim whose holder stops renewing expires and is taken over.
func TestKubernetesClaims(t *testing.T) {
	c := kube.Start(t)
	admin, err := kubernetes.NewForConfig(c.Config(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gw"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	replica := func(id string) *driver.Kubernetes {
		return &driver.Kubernetes{Client: admin, Namespace: "gw", Kind: driver.KindDeployment, Name: "openclaw",
			Identity: id, ClaimTTL: time.Second, Poll: 50 * time.Millisecond}
	}
	a, b := replica("a"), replica("b")

	held, err := a.Claim(ctx, "inc-1", "restart")
	if err != nil || held.DoneBy != "" {
		t.Fatalf("a's claim: %+v %v", held, err)
	}
	// b waits while a holds it, and learns that a finished.
	got := make(chan *driver.Claim, 1)
	go func() {
		c, err := b.Claim(ctx, "inc-1", "restart")
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	if err := held.Release("failure"); err != nil {
		t.Fatal(err)
	}
	if c := <-got; c == nil || c.DoneBy != "a" || c.Result != "failure" {
		t.Fatalf("b's claim after a finished: %+v", c)
	}
	// a's own retry of the incident acts again.
	retry, err := a.Claim(ctx, "inc-1", "restart")
	if err != nil || retry.DoneBy != "" {
		t.Fatalf("a's retry: %+v %v", retry, err)
	}
	// a stops mid-action without releasing: b takes over once it expires.
	stopped, cancel := context.WithCancel(ctx)
	if _, err := a.Claim(stopped, "inc-2", "restart"); err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline, cancelWait := context.WithTimeout(ctx, time.Minute)
	defer cancelWait()
	taken, err := b.Claim(deadline, "inc-2", "restart")
	if err != nil || taken.DoneBy != "" {
		t.Fatalf("b's takeover: %+v %v", taken, err)
	}
	if err := taken.Release("success"); err != nil {
		t.Fatal(err)
	}
}
