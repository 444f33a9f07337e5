package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// NodeName is the kwok node Workloads registers: pods scheduled there become
// Running and Ready without a container runtime.
const NodeName = "kwok-node-0"

// Workloads runs kube-controller-manager (Deployments, ReplicaSets,
// StatefulSets, PodDisruptionBudgets, service accounts, garbage collection)
// and kwok with one fake node, until the end of the test. Scheduling is the
// test's: a pod names the node (spec.nodeName), no scheduler runs.
func (c *Cluster) Workloads(t testing.TB) {
	t.Helper()
	dir := Dir(t)
	kwok := os.Getenv("CLAWWATCH_KWOK_DIR")
	if kwok == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CLAWWATCH_KWOK_DIR is not set: run the tests through `make test`, which runs `make kube`")
		}
		t.Skip("CLAWWATCH_KWOK_DIR is not set; `make test` runs `make kube` and then this test")
	}
	kubeconfig := filepath.Join(c.work, "admin.kubeconfig")
	write(t, kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
`, c.URL, c.CAFile, c.Token)))
	// The -controller suffixes are required in 1.34; without the service
	// account controllers the API server refuses pods (no "default" account).
	run(t, "kube-controller-manager", filepath.Join(dir, "kube-controller-manager"),
		"--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0",
		"--service-account-private-key-file="+filepath.Join(c.work, "sa.key"), "--use-service-account-credentials=false",
		"--controllers=deployment-controller,replicaset-controller,statefulset-controller,disruption-controller,"+
			"serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller")
	run(t, "kwok", filepath.Join(kwok, "kwok"),
		"--kubeconfig="+kubeconfig, "--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=127.0.0.1", "--server-address=127.0.0.1:"+strconv.Itoa(freePort(t)))

	cs, err := kubernetes.NewForConfig(c.Config(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: NodeName,
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}, Labels: map[string]string{"type": "kwok"}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node: %v", err)
	}
	// Pods need the namespace's "default" service account, and the node
	// must be Ready: both come from the processes just started.
	deadline := time.Now().Add(readyWithin)
	for {
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		_, saErr := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err == nil && saErr == nil && nodeReady(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kwok node not Ready or no default service account within %s: %v, %v", readyWithin, err, saErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
