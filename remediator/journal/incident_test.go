package journal

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Every pair of states: the allowed changes happen, every other one is an
// error that leaves the incident as it was.
func TestTransitionTable(t *testing.T) {
	allowed := map[[2]string]bool{
		{StateReceived, StatePending}: true, {StateReceived, StateRunning}: true, {StateReceived, StateDone}: true,
		{StatePending, StateQueued}: true, {StatePending, StateDone}: true,
		{StateQueued, StateRunning}: true, {StateQueued, StateDone}: true,
		{StateRunning, StateRunning}: true, {StateRunning, StateDone}: true,
	}
	now := time.Unix(1000, 0)
	for _, from := range States {
		for _, to := range States {
			t.Run(from+"→"+to, func(t *testing.T) {
				inc := &Incident{ID: "x", State: from}
				err := inc.to(to, now)
				switch {
				case allowed[[2]string{from, to}] && err != nil:
					t.Fatalf("refused: %v", err)
				case allowed[[2]string{from, to}]:
					if inc.State != to || !inc.UpdatedAt.Equal(now) {
						t.Fatalf("state %s updated %v", inc.State, inc.UpdatedAt)
					}
				case !errors.Is(err, ErrTransition):
					t.Fatalf("allowed, err %v", err)
				case inc.State != from || !inc.UpdatedAt.IsZero():
					t.Fatalf("a refused change changed the incident: %s %v", inc.State, inc.UpdatedAt)
				}
			})
		}
	}
}

// Each method from each state: what it may do, and the fields it sets.
func TestIncidentMethods(t *testing.T) {
	now := time.Unix(2000, 0)
	later := now.Add(time.Minute)
	methods := []struct {
		name  string
		from  []string // states it works from; every other one is refused
		apply func(*Incident) error
		check func(*Incident) error
	}{
		{"Settle", []string{StateReceived, StatePending, StateQueued, StateRunning},
			func(i *Incident) error { return i.Settle(DecisionCooldown, "cooldown: x", now) },
			func(i *Incident) error { return want(i, StateDone, DecisionCooldown, "cooldown: x") }},
		{"Wait", []string{StateReceived},
			func(i *Incident) error { return i.Wait(later, now) },
			func(i *Incident) error {
				if i.ExpiresAt == nil || !i.ExpiresAt.Equal(later) {
					return fmt.Errorf("expires %v", i.ExpiresAt)
				}
				return want(i, StatePending, DecisionPendingApproval, "waits for approval")
			}},
		{"Approve", []string{StatePending},
			func(i *Incident) error { return i.Approve(now) },
			func(i *Incident) error {
				if !i.Approved || i.ExpiresAt != nil {
					return fmt.Errorf("approved %v expires %v", i.Approved, i.ExpiresAt)
				}
				return want(i, StateQueued, "", "approved")
			}},
		{"Reject", []string{StatePending},
			func(i *Incident) error { return i.Reject("rejected: no", now) },
			func(i *Incident) error { return want(i, StateDone, DecisionRejected, "rejected: no") }},
		{"Begin", []string{StateReceived, StateQueued, StateRunning},
			func(i *Incident) error { return i.Begin(now) },
			func(i *Incident) error {
				if a := i.Running(); a == nil || a.Attempt != len(i.Actions) || !a.StartedAt.Equal(now) {
					return fmt.Errorf("attempts %+v", i.Actions)
				}
				return want(i, StateRunning, DecisionExecuted, "")
			}},
		{"Interrupt", []string{StateReceived, StatePending, StateQueued, StateRunning},
			func(i *Incident) error { return i.Interrupt(now) },
			func(i *Incident) error { return want(i, StateDone, "", "interrupted by a restart of the remediator") }},
	}
	for _, m := range methods {
		for _, from := range States {
			t.Run(m.name+"/"+from, func(t *testing.T) {
				inc := &Incident{ID: "x", State: from, Action: "restart", Target: "t"}
				if from == StatePending {
					inc.ExpiresAt = &later
				}
				if from == StateRunning { // its last attempt ended: a retry may begin
					inc.Actions = []Action{{Attempt: 1, EndedAt: &now, Result: ResultFailure}}
				}
				err := m.apply(inc)
				if !slices.Contains(m.from, from) {
					if !errors.Is(err, ErrTransition) {
						t.Fatalf("from %s: err %v, want ErrTransition", from, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := m.check(inc); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// An attempt begins, ends and finishes in that order only.
func TestAttemptOrder(t *testing.T) {
	now := time.Unix(3000, 0)
	inc := &Incident{ID: "x", State: StateReceived, Action: "restart", Target: "t"}
	if err := inc.End(ResultSuccess, "", "", nil, now); !errors.Is(err, ErrTransition) {
		t.Fatalf("End before Begin: %v", err)
	}
	if err := inc.Begin(now); err != nil {
		t.Fatal(err)
	}
	if err := inc.Begin(now); !errors.Is(err, ErrTransition) {
		t.Fatalf("Begin while an attempt runs: %v", err)
	}
	if err := inc.Finish("success", now); !errors.Is(err, ErrTransition) {
		t.Fatalf("Finish while an attempt runs: %v", err)
	}
	if err := inc.End(ResultFailure, "out", "", errors.New("boom"), now); err != nil {
		t.Fatal(err)
	}
	if a := inc.Actions[0]; a.Result != ResultFailure || a.Error != "boom" || a.Output != "out" || a.EndedAt == nil {
		t.Fatalf("ended attempt %+v", a)
	}
	if err := inc.Begin(now); err != nil || len(inc.Actions) != 2 {
		t.Fatalf("retry: %v, %d attempts", err, len(inc.Actions))
	}
	if err := inc.End(ResultSuccess, "", "healthy", nil, now); err != nil {
		t.Fatal(err)
	}
	if err := inc.Finish(ResultSuccess, now); err != nil {
		t.Fatal(err)
	}
	if err := want(inc, StateDone, DecisionExecuted, ResultSuccess); err != nil {
		t.Fatal(err)
	}
	if err := inc.Finish(ResultSuccess, now); !errors.Is(err, ErrTransition) {
		t.Fatalf("Finish twice: %v", err)
	}
}

// Expire ends a pending incident only once its time has passed.
func TestExpire(t *testing.T) {
	at := time.Unix(4000, 0)
	inc := &Incident{ID: "x", State: StatePending, ExpiresAt: &at}
	if inc.Expire(at.Add(-time.Second)) || inc.State != StatePending {
		t.Fatalf("expired early: %s", inc.State)
	}
	if !inc.Expire(at) {
		t.Fatal("not expired at its time")
	}
	if err := want(inc, StateDone, DecisionExpired, "nobody approved it before 1970-01-01T01:06:40Z"); err != nil {
		t.Fatal(err)
	}
	if inc.Expire(at) {
		t.Fatal("expired twice")
	}
}

func want(i *Incident, state, decision, reason string) error {
	if i.State != state || i.Decision != decision || i.Reason != reason {
		return fmt.Errorf("got %s/%s/%q, want %s/%s/%q", i.State, i.Decision, i.Reason, state, decision, reason)
	}
	return nil
}
