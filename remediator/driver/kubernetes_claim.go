package driver

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Claimer is a driver whose target several remediators may share: before
// acting on an incident a remediator claims the target for it, and learns
// when another one already did the work.
type Claimer interface {
	Claim(ctx context.Context, incident, action string) (*Claim, error)
}

// Claim is one incident's hold on a target.
type Claim struct {
	// DoneBy names the remediator that already finished the incident's
	// action, with its result: nothing to do here. Empty when the claim is
	// held.
	DoneBy, Result string

	release func(result string) error
}

// Release marks the incident's action finished with result, so that a
// remediator taking over never repeats it. Not called when the action was
// interrupted: the hold then expires and another remediator acts.
func (c *Claim) Release(result string) error {
	if c.release == nil {
		return nil
	}
	return c.release(result)
}

// The claim's record on its Lease.
const (
	claimIncident = "remediation.clawwatch.io/incident"
	claimAction   = "remediation.clawwatch.io/action"
	claimState    = "remediation.clawwatch.io/state"
	claimResult   = "remediation.clawwatch.io/result"

	stateActing = "acting"
	stateDone   = "done"
)

// DefaultClaimTTL is how long a claim outlives its holder's last renewal:
// the time a remediator that died mid-action holds up the one that takes
// over.
const DefaultClaimTTL = 15 * time.Second

// LeaseName is the Lease that holds the claims on a workload.
func LeaseName(workload string) string { return workload + "-remediation" }

// Claim takes the workload for incident, by an update of its Lease that
// carries the resourceVersion read: of two remediators claiming at once,
// one wins and the other reads the winner's claim. It waits while another
// remediator's claim is live (renewed within its TTL), and returns DoneBy
// when that claim ends done for the same incident. A held claim is renewed
// until Release or ctx's end.
func (k *Kubernetes) Claim(ctx context.Context, incident, action string) (*Claim, error) {
	leases := k.Client.CoordinationV1().Leases(k.Namespace)
	name := LeaseName(k.Name)
	ttl := k.claimTTL()
	for {
		l, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: k.Namespace}}
			k.hold(l, incident, action)
			if l, err = leases.Create(ctx, l, metav1.CreateOptions{}); err == nil {
				return k.held(ctx, l, incident), nil
			}
			if apierrors.IsAlreadyExists(err) {
				continue
			}
		}
		if err != nil {
			return nil, k.apiErr("claim", err)
		}
		a := l.Annotations
		holder := ptrString(l.Spec.HolderIdentity)
		// Done by another: finished there (a failure there is retried
		// there). Done by this one: a retry of its own, which acts again.
		if a[claimIncident] == incident && a[claimState] == stateDone && holder != k.Identity {
			return &Claim{DoneBy: holder, Result: a[claimResult]}, nil
		}
		live := a[claimState] == stateActing && l.Spec.RenewTime != nil && time.Since(l.Spec.RenewTime.Time) < ttl
		if !live || holder == k.Identity {
			k.hold(l, incident, action)
			l, err = leases.Update(ctx, l, metav1.UpdateOptions{})
			if err == nil {
				return k.held(ctx, l, incident), nil
			}
			if !apierrors.IsConflict(err) {
				return nil, k.apiErr("claim", err)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: held by %s for incident %s: %w", k, holder, a[claimIncident], ctx.Err())
		case <-time.After(k.poll()):
		}
	}
}

func (k *Kubernetes) hold(l *coordinationv1.Lease, incident, action string) {
	now := metav1.NewMicroTime(k.now())
	secs := int32(k.claimTTL() / time.Second)
	id := k.Identity
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &id, &secs
	l.Spec.AcquireTime, l.Spec.RenewTime = &now, &now
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[claimIncident], l.Annotations[claimAction], l.Annotations[claimState] = incident, action, stateActing
	delete(l.Annotations, claimResult)
}

// held renews the claim every third of its TTL until released or ctx, the
// action's, ends: a remediator stopped mid-action lets its claim expire.
func (k *Kubernetes) held(ctx context.Context, l *coordinationv1.Lease, incident string) *Claim {
	leases := k.Client.CoordinationV1().Leases(k.Namespace)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(k.claimTTL() / 3):
			}
			ctx, cancel := context.WithTimeout(ctx, k.claimTTL()/3)
			cur, err := leases.Get(ctx, l.Name, metav1.GetOptions{})
			if err == nil && ptrString(cur.Spec.HolderIdentity) == k.Identity && cur.Annotations[claimIncident] == incident {
				now := metav1.NewMicroTime(k.now())
				cur.Spec.RenewTime = &now
				_, err = leases.Update(ctx, cur, metav1.UpdateOptions{})
			}
			cancel()
			_ = err // the next renewal tries again; a lost claim shows in Release
		}
	}()
	var once bool
	return &Claim{release: func(result string) error {
		if !once {
			once = true
			close(stop)
			<-stopped
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for {
			cur, err := leases.Get(ctx, l.Name, metav1.GetOptions{})
			if err != nil {
				return k.apiErr("release the claim on", err)
			}
			if ptrString(cur.Spec.HolderIdentity) != k.Identity || cur.Annotations[claimIncident] != incident {
				return fmt.Errorf("%s: the claim for incident %s was taken over by %s", k, incident, ptrString(cur.Spec.HolderIdentity))
			}
			now := metav1.NewMicroTime(k.now())
			cur.Spec.RenewTime = &now
			cur.Annotations[claimState], cur.Annotations[claimResult] = stateDone, result
			if _, err = leases.Update(ctx, cur, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
				if err != nil {
					return k.apiErr("release the claim on", err)
				}
				return nil
			}
		}
	}}
}

func (k *Kubernetes) claimTTL() time.Duration {
	if k.ClaimTTL > 0 {
		return k.ClaimTTL
	}
	return DefaultClaimTTL
}

func (k *Kubernetes) poll() time.Duration {
	if k.Poll > 0 {
		return k.Poll
	}
	return time.Second
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
