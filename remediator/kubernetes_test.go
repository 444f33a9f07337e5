package remediator_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/kube"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

const (
	kubeNamespace = "openclaw"
	kubeWorkload  = "openclaw" // the name deploy/kubernetes' Role allows
	kubeImage     = "ghcr.io/openclaw/openclaw:"
)

// kubeRig is a real control plane (API server, controllers, a kwok node)
// running the gateway's Deployment, and a simulator standing in for its
// pod: whenever the Deployment's pod template changes, the simulator is
// replaced by one of the template's image version, as a new pod would be.
type kubeRig struct {
	cluster *kube.Cluster
	admin   kubernetes.Interface
	sim     *gatewayStandIn
}

func newKubeRig(t *testing.T) *kubeRig {
	t.Helper()
	c := kube.Start(t)
	c.Workloads(t)
	admin, err := kubernetes.NewForConfig(c.Config(nil))
	if err != nil {
		t.Fatal(err)
	}
	rig := &kubeRig{cluster: c, admin: admin}
	ctx := context.Background()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kubeNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rig.applyRBAC(t)
	labels := map[string]string{"app.kubernetes.io/name": kubeWorkload}
	one := int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: kubeWorkload, Namespace: kubeNamespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{NodeName: kube.NodeName, Containers: []corev1.Container{{Name: "gateway", Image: kubeImage + goodVersion}}},
			},
		},
	}
	if _, err := admin.AppsV1().Deployments(kubeNamespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rig.sim = standIn(t, admin)
	rig.waitRolledOut(t, goodVersion)
	return rig
}

// applyRBAC creates the ServiceAccount, Role and RoleBinding of the
// remediator's overlay, as shipped.
func (rig *kubeRig) applyRBAC(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "deploy", "kubernetes", "overlays", "remediator", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, rbac := context.Background(), rig.admin.RbacV1()
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ServiceAccount":
			var o corev1.ServiceAccount
			mustUnmarshal(t, doc, &o)
			_, err = rig.admin.CoreV1().ServiceAccounts(kubeNamespace).Create(ctx, &o, metav1.CreateOptions{})
		case "Role":
			var o rbacv1.Role
			mustUnmarshal(t, doc, &o)
			_, err = rbac.Roles(kubeNamespace).Create(ctx, &o, metav1.CreateOptions{})
		case "RoleBinding":
			var o rbacv1.RoleBinding
			mustUnmarshal(t, doc, &o)
			_, err = rbac.RoleBindings(kubeNamespace).Create(ctx, &o, metav1.CreateOptions{})
		default:
			t.Fatalf("rbac.yaml: unexpected kind %q", meta.Kind)
		}
		if err != nil {
			t.Fatalf("rbac.yaml: %s: %v", meta.Kind, err)
		}
	}
}

func mustUnmarshal(t *testing.T, doc string, o any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), o); err != nil {
		t.Fatalf("rbac.yaml: %v", err)
	}
}

// kubeconfig writes a kubeconfig with a token of the service account, which
// a RoleBinding of the overlay's Role covers or not.
func (rig *kubeRig) kubeconfig(t *testing.T, account string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := rig.admin.CoreV1().ServiceAccounts(kubeNamespace).Get(ctx, account, metav1.GetOptions{}); err != nil {
		if _, err := rig.admin.CoreV1().ServiceAccounts(kubeNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: account}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := rig.admin.CoreV1().ServiceAccounts(kubeNamespace).CreateToken(ctx, account, &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), account+".kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: %s, user: {token: %q}}]
contexts: [{name: local, context: {cluster: local, user: %s, namespace: %s}}]
current-context: local
`, rig.cluster.URL, rig.cluster.CAFile, account, tok.Status.Token, account, kubeNamespace)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (rig *kubeRig) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := rig.admin.AppsV1().Deployments(kubeNamespace).Get(context.Background(), kubeWorkload, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (rig *kubeRig) replicaSets(t *testing.T) []appsv1.ReplicaSet {
	t.Helper()
	l, err := rig.admin.AppsV1().ReplicaSets(kubeNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// waitRolledOut waits until the Deployment runs version, rolled out, and
// the stand-in answers healthy as it.
func (rig *kubeRig) waitRolledOut(t *testing.T, version string) {
	t.Helper()
	simtest.Eventually(t, 2*time.Minute, func() error {
		d, err := rig.admin.AppsV1().Deployments(kubeNamespace).Get(context.Background(), kubeWorkload, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if img := d.Spec.Template.Spec.Containers[0].Image; img != kubeImage+version {
			return fmt.Errorf("image %s", img)
		}
		if st := d.Status; st.ObservedGeneration < d.Generation || st.UpdatedReplicas != 1 || st.AvailableReplicas != 1 || st.Replicas != 1 {
			return fmt.Errorf("not rolled out: %+v", st)
		}
		return rig.sim.answers(version)
	})
}

// setImage is the operator's upgrade: a new image, a new rollout.
func (rig *kubeRig) setImage(t *testing.T, version string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"gateway","image":%q}]}}}}`, kubeImage+version)
	if _, err := rig.admin.AppsV1().Deployments(kubeNamespace).Patch(context.Background(), kubeWorkload, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	rig.waitRolledOut(t, version)
}

func (rig *kubeRig) setPaused(t *testing.T, paused bool) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"paused":%t}}`, paused)
	if _, err := rig.admin.AppsV1().Deployments(kubeNamespace).Patch(context.Background(), kubeWorkload, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// target is a remediator target of the Deployment through account's token.
func (rig *kubeRig) target(t *testing.T, name, account string) string {
	return rig.replicaTarget(t, name, account, "")
}

// replicaTarget is the target of one of several remediators sharing it,
// named identity, with a short claim TTL.
func (rig *kubeRig) replicaTarget(t *testing.T, name, account, identity string) string {
	extra := ""
	if identity != "" {
		extra = ", identity: " + identity + ", claim_ttl: 2s"
	}
	return fmt.Sprintf(`
  - name: %s
    url: %s
    verify: {timeout: 60s, interval: 100ms}
    driver: {kind: kubernetes, namespace: %s, deployment: %s, kubeconfig: %s%s}
`, name, rig.sim.url, kubeNamespace, kubeWorkload, rig.kubeconfig(t, account), extra)
}

func (rig *kubeRig) lease(t *testing.T) *coordinationv1.Lease {
	t.Helper()
	l, err := rig.admin.CoordinationV1().Leases(kubeNamespace).Get(context.Background(), driver.LeaseName(kubeWorkload), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// gatewayStandIn is the simulator a pod of the Deployment stands for, on
// one port throughout.
type gatewayStandIn struct {
	url      string
	port     int
	ctl      int
	mu       sync.Mutex
	sim      *simtest.Sim
	template string // the pod template the simulator runs
	swaps    int
	// held: a new pod does not come up until released (a slow start).
	held    bool
	release chan struct{}
}

// hold keeps the next pods from coming up, until the function it returns
// is called.
func (s *gatewayStandIn) hold() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held, s.release = true, make(chan struct{})
	ch := s.release
	return func() {
		s.mu.Lock()
		s.held = false
		s.mu.Unlock()
		close(ch)
	}
}

// standIn follows the Deployment: on every new pod template (a restart
// annotation, an image) the simulator is replaced, as the pod would be,
// by one of the image's version. A watch, not a poll: the replacement
// starts before the rollout can complete.
func standIn(t *testing.T, admin kubernetes.Interface) *gatewayStandIn {
	t.Helper()
	s := &gatewayStandIn{port: simtest.FreePort(t), ctl: simtest.FreePort(t)}
	s.url = fmt.Sprintf("http://127.0.0.1:%d", s.port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	state, logs := t.TempDir(), t.TempDir()
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			w, err := admin.AppsV1().Deployments(kubeNamespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + kubeWorkload})
			if err != nil {
				continue
			}
			for ev := range w.ResultChan() {
				d, ok := ev.Object.(*appsv1.Deployment)
				if !ok {
					continue
				}
				key := fmt.Sprint(d.Spec.Template.Annotations, d.Spec.Template.Spec.Containers[0].Image)
				version := strings.TrimPrefix(d.Spec.Template.Spec.Containers[0].Image, kubeImage)
				s.replace(t, key, version, state, logs)
			}
			w.Stop()
		}
	}()
	return s
}

func (s *gatewayStandIn) replace(t *testing.T, key, version, state, logs string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == s.template {
		return
	}
	if s.sim != nil {
		_ = s.sim.Cmd.Process.Kill()
		s.sim = nil
	}
	if s.held {
		ch := s.release
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
	// The old process may hold the port a moment: the new one exits, and
	// is launched again.
	for range 100 {
		sim, err := simtest.Launch(t, simtest.Options{Port: s.port, ControlPort: s.ctl, StateDir: state, LogDir: logs, Version: version})
		if err == nil && healthyWithin(s.url, 5*time.Second) {
			s.sim, s.template = sim, key
			s.swaps++
			return
		}
		if sim != nil {
			_ = sim.Cmd.Process.Kill()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healthyWithin polls the gateway's health until it answers or d passes.
func healthyWithin(url string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if simtest.Healthy(url) == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// answers says whether the stand-in runs version and is healthy.
func (s *gatewayStandIn) answers(version string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := openclaw.VersionFromControlUI(ctx, http.DefaultClient, s.url)
	if v := got.Version; err != nil || v != version {
		return fmt.Errorf("stand-in reports %q (%v), want %q", got.Version, err, version)
	}
	return simtest.Healthy(s.url)
}

// The Kubernetes driver end to end on a real control plane: a hung-gateway
// alert becomes a rollout restart (a new ReplicaSet, its pod Ready, the
// gateway verified) and the ReplicaSet is recorded with the simtest.Healthy
// version; after an operator's upgrade, a rollback alert (approved) puts
// that ReplicaSet's template back; a paused rollout and an RBAC denial end
// refused in the API server's words, changing nothing; a file cleanup of
// a gateway whose volume is not mounted here is refused.
func TestKubernetesDriverRestartsAndRollsBack(t *testing.T) {
	rig := newKubeRig(t)
	h := harness.New(t, `
limits: {cooldown: 1ms, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
targets:`+rig.target(t, "default", "openclaw-remediator")+rig.target(t, "weak", "weak"))

	before := rig.replicaSets(t)
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
	inc := h.WaitIncident(hungID, 2*time.Minute, remtest.Done)
	a := inc.Actions[0]
	if a.Result != journal.ResultSuccess || !strings.Contains(a.Output, "rollout restart of Deployment openclaw/openclaw") || !strings.Contains(a.Output, "rolled out in") {
		t.Fatalf("restart: %s %q\n%s\n%s", a.Result, a.Error, a.Output, a.Verification)
	}
	after := rig.replicaSets(t)
	if len(after) != len(before)+1 {
		t.Fatalf("ReplicaSets %d before the restart, %d after: want one new", len(before), len(after))
	}
	ts, _ := h.J.Target("default")
	if len(ts.Versions) != 1 || ts.Versions[0].Version != goodVersion || ts.Versions[0].Revision == "" {
		t.Fatalf("versions on record after the restart: %+v", ts.Versions)
	}
	healthyRS := ts.Versions[0].Revision
	t.Logf("restart:\n%s\nverification: %s\nrecorded: %+v", a.Output, a.Verification, ts.Versions[0])

	rig.setImage(t, badVersion)
	h.Post(remtest.Fixture(t, "rollback_after_upgrade.json"))
	h.WaitIncident(rollbackID, 10*time.Second, pending)
	if code, body := approve(h, rollbackID); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	inc = h.WaitIncident(rollbackID, 2*time.Minute, remtest.Done)
	a = inc.Actions[0]
	if a.Result != journal.ResultSuccess || !strings.Contains(a.Output, "rollout undo of Deployment openclaw/openclaw to ReplicaSet "+healthyRS) ||
		!strings.Contains(a.Verification, "runs "+goodVersion) {
		t.Fatalf("rollback: %s %q\n%s\n%s", a.Result, a.Error, a.Output, a.Verification)
	}
	if img := rig.deployment(t).Spec.Template.Spec.Containers[0].Image; img != kubeImage+goodVersion {
		t.Fatalf("after the rollback the Deployment runs %s", img)
	}
	rig.waitRolledOut(t, goodVersion)
	t.Logf("rollback:\n%s\nverification: %s", a.Output, a.Verification)

	// Paused: refused, the Deployment untouched.
	rig.setPaused(t, true)
	gen := rig.deployment(t).Generation
	pausedFP := "0a0b0c0d0e0f1011"
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", pausedFP))
	inc = h.WaitIncident(journal.ID(pausedFP, mustTime("2026-11-20T22:41:07.118Z")), time.Minute, finished)
	if a := inc.Actions[0]; a.Result != journal.ResultRefused || !strings.Contains(a.Error, "the rollout is paused") {
		t.Fatalf("restart of a paused rollout: %s %q", a.Result, a.Error)
	}
	if g := rig.deployment(t).Generation; g != gen {
		t.Fatalf("a refused restart changed the Deployment: generation %d -> %d", gen, g)
	}
	rig.setPaused(t, false)

	// A service account the Role does not cover: the API server's words.
	weakFP := "1a1b1c1d1e1f2021"
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", weakFP, `"gateway": "default"`, `"gateway": "weak"`))
	inc = h.WaitIncident(journal.ID(weakFP, mustTime("2026-11-20T22:41:07.118Z")), time.Minute, finished)
	if a := inc.Actions[0]; a.Result != journal.ResultRefused || !strings.Contains(a.Error, `is forbidden: User "system:serviceaccount:openclaw:weak" cannot get resource`) {
		t.Fatalf("restart without RBAC: %s %q", a.Result, a.Error)
	}

	// Its files are not here: refused, not looked for in our own home.
	locksFP := "2a2b2c2d2e2f3031"
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", locksFP, `"remediation": "restart"`, `"remediation": "cleanup_locks"`))
	inc = h.WaitIncident(journal.ID(locksFP, mustTime("2026-11-20T22:41:07.118Z")), time.Minute, finished)
	if a := inc.Actions[0]; a.Result != journal.ResultRefused || !strings.Contains(a.Error, "mount its state volume") {
		t.Fatalf("cleanup_locks of a Kubernetes target: %s %q", a.Result, a.Error)
	}
}

// finished: the incident ended, however.
func finished(inc *journal.Incident) error {
	if inc.State != journal.StateDone || len(inc.Actions) == 0 {
		return fmt.Errorf("incident %s is %s (%s)", inc.ID, inc.State, inc.Reason)
	}
	return nil
}

// Two remediators share the Deployment, as the two replicas of
// deploy/kubernetes do, and both receive every alert. The first to claim
// the Deployment acts; it is killed mid-action (its new pod slow to come
// up), and the other takes over once the claim expires and finishes the
// incident. With both alive, one acts and the other records the incident
// done elsewhere: one new rollout per incident, and the action that
// finished is never repeated.
func TestKubernetesTwoRemediatorsOneAction(t *testing.T) {
	rig := newKubeRig(t)
	cfg := func(identity string) string {
		return `
limits: {cooldown: 1ms, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
targets:` + rig.replicaTarget(t, "default", "openclaw-remediator", identity)
	}
	replicas := map[string]*harness.Harness{"replica-a": harness.New(t, cfg("replica-a")), "replica-b": harness.New(t, cfg("replica-b"))}

	release := rig.sim.hold()
	start := len(rig.replicaSets(t))
	body := remtest.Fixture(t, "firing_gateway_hung.json")
	for _, h := range replicas {
		if code, ack := h.Post(body); code != http.StatusOK || ack.New != 1 {
			t.Fatalf("webhook: %d %+v", code, ack)
		}
	}
	var first string
	simtest.Eventually(t, time.Minute, func() error {
		l, err := rig.admin.CoordinationV1().Leases(kubeNamespace).Get(context.Background(), driver.LeaseName(kubeWorkload), metav1.GetOptions{})
		if err != nil {
			return err
		}
		if l.Annotations["remediation.clawwatch.io/state"] != "acting" || len(rig.replicaSets(t)) != start+1 {
			return fmt.Errorf("no rollout under a claim yet: %v", l.Annotations)
		}
		first = *l.Spec.HolderIdentity
		return nil
	})
	second := "replica-a"
	if first == second {
		second = "replica-b"
	}
	t.Logf("%s claimed the Deployment and restarted it; killing it while the new pod is not up", first)
	replicas[first].Stop()
	release()

	inc := replicas[second].WaitIncident(hungID, 2*time.Minute, remtest.Done)
	if a := inc.Actions[len(inc.Actions)-1]; a.Result != journal.ResultSuccess || !strings.Contains(a.Output, "rollout restart") {
		t.Fatalf("%s after taking over: %s %q\n%s", second, a.Result, a.Error, a.Output)
	}
	l := rig.lease(t)
	if *l.Spec.HolderIdentity != second || l.Annotations["remediation.clawwatch.io/state"] != "done" || l.Annotations["remediation.clawwatch.io/result"] != journal.ResultSuccess {
		t.Fatalf("lease after the takeover: %s %v", *l.Spec.HolderIdentity, l.Annotations)
	}
	if n := len(rig.replicaSets(t)); n != start+2 {
		t.Fatalf("%d new ReplicaSets: want the killed one's and the one that finished", n-start)
	}

	// The killed one comes back on its journal: the attempt it was
	// stopped in stays interrupted, and it does not act again.
	replicas[first].Start()
	inc = replicas[first].WaitIncident(hungID, time.Minute, remtest.Done)
	if a := inc.Actions[len(inc.Actions)-1]; a.Result != journal.ResultInterrupted || len(inc.Actions) != 1 {
		t.Fatalf("%s back after the takeover: %+v", first, inc.Actions)
	}

	// Both alive: one acts, the other records it done elsewhere.
	before := len(rig.replicaSets(t))
	fp := "3a3b3c3d3e3f4041"
	body = remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", fp)
	for _, h := range replicas {
		h.Post(body)
	}
	id := journal.ID(fp, mustTime("2026-11-20T22:41:07.118Z"))
	results := map[string]int{}
	for name, h := range replicas {
		inc := h.WaitIncident(id, 2*time.Minute, remtest.Done)
		a := inc.Actions[len(inc.Actions)-1]
		results[a.Result]++
		t.Logf("%s: %s %s", name, a.Result, a.Output)
	}
	if results[journal.ResultSuccess] != 1 || results[journal.ResultElsewhere] != 1 {
		t.Fatalf("results %v: want one success and one elsewhere", results)
	}
	if n := len(rig.replicaSets(t)); n != before+1 {
		t.Fatalf("%d new ReplicaSets for one incident", n-before)
	}
}
