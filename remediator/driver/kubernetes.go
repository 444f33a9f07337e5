package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
)

// ErrRefused marks a driver call that changed nothing because it must not:
// a paused rollout, a permission the API server denied, a revision that is
// gone. The actions' ErrRefused is this one.
var ErrRefused = errors.New("refused")

// Kubernetes kinds a kubernetes driver restarts and rolls back.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
)

// restartedAtAnnotation is what `kubectl rollout restart` patches into the
// pod template: a new template, so a new ReplicaSet, rolled out under the
// Deployment's own strategy.
const restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Kubernetes restarts and rolls back a gateway that Kubernetes runs, through
// Kubernetes' own mechanisms only: a rollout restart of a Deployment (or an
// eviction of a single-replica StatefulSet's pod, so that disruption
// budgets hold) and a return to a recorded revision, each waited on until
// the rollout completes. It never stops a workload: Stop and Start refuse.
//
// Namespace, Kind and Name come from the configuration only; nothing from
// an alert reaches an API path.
type Kubernetes struct {
	Client    kubernetes.Interface
	Namespace string
	Kind      string
	Name      string
	// Identity names this remediator in its claims (Claim): the pod's name.
	Identity string
	// ClaimTTL is how long a claim outlives its last renewal; 0 is
	// DefaultClaimTTL.
	ClaimTTL time.Duration
	// Poll is how often a rollout or a claim is looked at; 0 is a second.
	Poll time.Duration
	// Now stamps the restart annotation; nil is time.Now.
	Now func() time.Time
}

// KubernetesClient connects to the API server of kubeconfig, or, when it is
// empty, of the cluster this process runs in (its service account).
func KubernetesClient(kubeconfig string) (kubernetes.Interface, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster configuration (set kubeconfig outside a cluster): %w", err)
		}
	} else if cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.UserAgent = "openclaw-remediator"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return cs, nil
}

func (k *Kubernetes) String() string { return k.Kind + " " + k.Namespace + "/" + k.Name }

// Stop refuses: stopping a workload is scaling it down, which is not a
// restart and would leave it down if the remediator died.
func (k *Kubernetes) Stop(context.Context, time.Duration) (string, error) {
	return "", fmt.Errorf("%w: %s is not stopped by the remediator (a restart is a rollout restart; a scale-down is the operator's)", ErrRefused, k)
}

// Start refuses, like Stop.
func (k *Kubernetes) Start(context.Context) (string, error) {
	return "", fmt.Errorf("%w: %s is started by Kubernetes, not the remediator", ErrRefused, k)
}

// Restart rolls the workload out again and waits until the rollout is
// complete or ctx ends.
func (k *Kubernetes) Restart(ctx context.Context) (string, error) {
	if k.Kind == KindStatefulSet {
		return k.evict(ctx)
	}
	at := k.now().UTC().Format(time.RFC3339)
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{restartedAtAnnotation: at}}}}})
	if err != nil {
		return "", err
	}
	// Each try patches the object just checked (its resourceVersion): an
	// operator's pause meanwhile is seen, not overridden. The controllers'
	// status updates change it too, hence the retries.
	var d *appsv1.Deployment
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := k.Client.AppsV1().Deployments(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			return k.apiErr("get", err)
		}
		if cur.Spec.Paused {
			return fmt.Errorf("%w: %s: the rollout is paused (kubectl rollout resume first)", ErrRefused, k)
		}
		p, err := withResourceVersion(patch, cur.ResourceVersion)
		if err != nil {
			return err
		}
		d, err = k.Client.AppsV1().Deployments(k.Namespace).Patch(ctx, k.Name, types.StrategicMergePatchType, p, metav1.PatchOptions{})
		if err != nil {
			return k.apiErr("patch", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("rollout restart of %s (%s=%s, generation %d)", k, restartedAtAnnotation, at, d.Generation)
	done, err := k.waitDeployment(ctx, d.Generation)
	return out + "\n" + done, err
}

// evict evicts the pod of a single-replica StatefulSet through the Eviction
// API, so that a PodDisruptionBudget holds, and waits for its replacement.
func (k *Kubernetes) evict(ctx context.Context) (string, error) {
	s, err := k.Client.AppsV1().StatefulSets(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
	if err != nil {
		return "", k.apiErr("get", err)
	}
	if replicas(s.Spec.Replicas) != 1 {
		return "", fmt.Errorf("%w: %s has %d replicas: only a single-replica StatefulSet is restarted, by evicting its pod", ErrRefused, k, replicas(s.Spec.Replicas))
	}
	sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("%s: selector: %w", k, err)
	}
	pods, err := k.Client.CoreV1().Pods(k.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return "", k.apiErr("list pods of", err)
	}
	var pod *corev1.Pod
	for i := range pods.Items {
		if owned(pods.Items[i].OwnerReferences, s.UID) {
			pod = &pods.Items[i]
		}
	}
	if pod == nil {
		return "", fmt.Errorf("%w: %s has no pod to evict", ErrRefused, k)
	}
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: k.Namespace},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}}}
	if err := k.Client.CoreV1().Pods(k.Namespace).EvictV1(ctx, ev); err != nil {
		if apierrors.IsTooManyRequests(err) {
			return "", fmt.Errorf("%w: %s: eviction of pod %s refused by its disruption budget: %w", ErrRefused, k, pod.Name, err)
		}
		return "", k.apiErr("evict the pod of", err)
	}
	out := fmt.Sprintf("evicted pod %s of %s", pod.Name, k)
	done, err := k.pollUntil(ctx, func(ctx context.Context) (bool, string, error) {
		p, err := k.Client.CoreV1().Pods(k.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "pod " + pod.Name + " not recreated yet", nil
		}
		if err != nil {
			return false, "", k.apiErr("get pod of", err)
		}
		if p.UID == pod.UID {
			return false, "pod " + pod.Name + " still the evicted one", nil
		}
		if !podReady(p) {
			return false, "pod " + p.Name + " recreated, not Ready", nil
		}
		return true, "pod " + p.Name + " recreated and Ready", nil
	})
	return out + "\n" + done, err
}

// Revision names what runs now, for a later Revert: the Deployment's
// current ReplicaSet or the StatefulSet's current ControllerRevision.
func (k *Kubernetes) Revision(ctx context.Context) (string, error) {
	if k.Kind == KindStatefulSet {
		s, err := k.Client.AppsV1().StatefulSets(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			return "", k.apiErr("get", err)
		}
		if s.Status.CurrentRevision == "" || s.Status.CurrentRevision != s.Status.UpdateRevision {
			return "", fmt.Errorf("%s: rollout not complete (current revision %q, update %q)", k, s.Status.CurrentRevision, s.Status.UpdateRevision)
		}
		return s.Status.CurrentRevision, nil
	}
	d, err := k.Client.AppsV1().Deployments(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
	if err != nil {
		return "", k.apiErr("get", err)
	}
	rs, err := k.replicaSets(ctx, d)
	if err != nil {
		return "", err
	}
	want := d.Annotations[revisionAnnotation]
	for _, r := range rs {
		if r.Annotations[revisionAnnotation] == want {
			return r.Name, nil
		}
	}
	return "", fmt.Errorf("%s: no ReplicaSet of revision %q", k, want)
}

// revisionAnnotation numbers a Deployment's rollouts, on it and on its
// ReplicaSets.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// Revert puts the pod template of revision back, as `kubectl rollout undo
// --to-revision` does, and waits until the rollout completes.
func (k *Kubernetes) Revert(ctx context.Context, revision string) (string, error) {
	if k.Kind == KindStatefulSet {
		return k.revertStatefulSet(ctx, revision)
	}
	// Update carries the resourceVersion just read: a change meanwhile
	// (an operator, the controllers' status) is read again and checked
	// again, never undone.
	var d *appsv1.Deployment
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := k.Client.AppsV1().Deployments(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			return k.apiErr("get", err)
		}
		if cur.Spec.Paused {
			return fmt.Errorf("%w: %s: the rollout is paused (kubectl rollout resume first)", ErrRefused, k)
		}
		rs, err := k.Client.AppsV1().ReplicaSets(k.Namespace).Get(ctx, revision, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: %s: ReplicaSet %s, recorded as healthy, is gone (revisionHistoryLimit %s)", ErrRefused, k, revision, revisionHistory(cur))
		}
		if err != nil {
			return k.apiErr("get the ReplicaSet of", err)
		}
		if !owned(rs.OwnerReferences, cur.UID) {
			return fmt.Errorf("%w: %s: ReplicaSet %s does not belong to it", ErrRefused, k, revision)
		}
		tmpl := rs.Spec.Template.DeepCopy()
		delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		cur.Spec.Template = *tmpl
		d, err = k.Client.AppsV1().Deployments(k.Namespace).Update(ctx, cur, metav1.UpdateOptions{})
		if err != nil {
			return k.apiErr("update", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("rollout undo of %s to ReplicaSet %s (generation %d)", k, revision, d.Generation)
	done, err := k.waitDeployment(ctx, d.Generation)
	return out + "\n" + done, err
}

func (k *Kubernetes) revertStatefulSet(ctx context.Context, revision string) (string, error) {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := k.Client.AppsV1().StatefulSets(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			return k.apiErr("get", err)
		}
		cr, err := k.Client.AppsV1().ControllerRevisions(k.Namespace).Get(ctx, revision, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: %s: ControllerRevision %s, recorded as healthy, is gone", ErrRefused, k, revision)
		}
		if err != nil {
			return k.apiErr("get the ControllerRevision of", err)
		}
		if !owned(cr.OwnerReferences, s.UID) {
			return fmt.Errorf("%w: %s: ControllerRevision %s does not belong to it", ErrRefused, k, revision)
		}
		// A StatefulSet's revision holds the patch that restores its template.
		patch, err := withResourceVersion(cr.Data.Raw, s.ResourceVersion)
		if err != nil {
			return fmt.Errorf("%s: ControllerRevision %s: %w", k, revision, err)
		}
		if _, err := k.Client.AppsV1().StatefulSets(k.Namespace).Patch(ctx, k.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return k.apiErr("patch", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("rollout undo of %s to ControllerRevision %s", k, revision)
	done, err := k.pollUntil(ctx, func(ctx context.Context) (bool, string, error) {
		s, err := k.Client.AppsV1().StatefulSets(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", k.apiErr("get", err)
		}
		st := s.Status
		msg := fmt.Sprintf("revision %s, %d/%d updated, %d ready", st.UpdateRevision, st.UpdatedReplicas, replicas(s.Spec.Replicas), st.ReadyReplicas)
		return st.ObservedGeneration >= s.Generation && st.CurrentRevision == st.UpdateRevision &&
			st.UpdatedReplicas == replicas(s.Spec.Replicas) && st.ReadyReplicas == replicas(s.Spec.Replicas), msg, nil
	})
	return out + "\n" + done, err
}

// waitDeployment waits until generation is observed and rolled out: every
// replica updated and available, none of an older template left.
func (k *Kubernetes) waitDeployment(ctx context.Context, generation int64) (string, error) {
	return k.pollUntil(ctx, func(ctx context.Context) (bool, string, error) {
		d, err := k.Client.AppsV1().Deployments(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", k.apiErr("get", err)
		}
		st, want := d.Status, replicas(d.Spec.Replicas)
		msg := fmt.Sprintf("generation %d observed %d: %d/%d updated, %d available, %d in all", d.Generation, st.ObservedGeneration, st.UpdatedReplicas, want, st.AvailableReplicas, st.Replicas)
		for _, c := range st.Conditions {
			if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
				return false, msg, fmt.Errorf("%s: rollout failed: %s", k, c.Message)
			}
		}
		return st.ObservedGeneration >= generation && st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want, msg, nil
	})
}

// pollUntil asks cond every Poll until it says done, fails, or ctx ends;
// the output is its last word, prefixed "rolled out: " when done.
func (k *Kubernetes) pollUntil(ctx context.Context, cond func(context.Context) (bool, string, error)) (string, error) {
	poll := k.poll()
	start := time.Now()
	for {
		done, msg, err := cond(ctx)
		if err != nil {
			return msg, err
		}
		if done {
			return fmt.Sprintf("rolled out in %s: %s", time.Since(start).Round(time.Millisecond), msg), nil
		}
		select {
		case <-ctx.Done():
			return msg, fmt.Errorf("%s: rollout not complete: %s: %w", k, msg, ctx.Err())
		case <-time.After(poll):
		}
	}
}

func (k *Kubernetes) replicaSets(ctx context.Context, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("%s: selector: %w", k, err)
	}
	if sel.Empty() {
		sel = labels.Nothing()
	}
	list, err := k.Client.AppsV1().ReplicaSets(k.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, k.apiErr("list the ReplicaSets of", err)
	}
	var out []appsv1.ReplicaSet
	for _, r := range list.Items {
		if owned(r.OwnerReferences, d.UID) {
			out = append(out, r)
		}
	}
	return out, nil
}

// apiErr says what the API server answered. A denial (RBAC), a missing
// object, a conflict (once retries are spent) or an invalid change changed
// nothing: refused, in the server's words. The API's error stays in the
// chain for retry.RetryOnConflict.
func (k *Kubernetes) apiErr(verb string, err error) error {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsInvalid(err) {
		return fmt.Errorf("%w: %s %s: %w", ErrRefused, verb, k, err)
	}
	return fmt.Errorf("%s %s: %w", verb, k, err)
}

func (k *Kubernetes) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// withResourceVersion adds metadata.resourceVersion to a JSON patch, which
// makes the API server refuse it (409) if the object changed since.
func withResourceVersion(patch []byte, rv string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(patch, &m); err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	meta, _ := m["metadata"].(map[string]any)
	meta = maps.Clone(meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["resourceVersion"] = rv
	m["metadata"] = meta
	return json.Marshal(m)
}

func owned(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, r := range refs {
		if r.UID == uid && r.Controller != nil && *r.Controller {
			return true
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func revisionHistory(d *appsv1.Deployment) string {
	if d.Spec.RevisionHistoryLimit == nil {
		return "10"
	}
	return strconv.Itoa(int(*d.Spec.RevisionHistoryLimit))
}
