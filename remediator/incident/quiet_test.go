package incident

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// quietPolicies: restarts wait up to an hour for a quiet moment, then ask
// a person (the default then) or act.
const quietPolicies = `
policies:
  - name: quiet_then_approval
    matchers: ['remediation="restart"', 'then="approval"']
    quiet: {within: 1h}
  - name: quiet_then_act
    matchers: ['remediation="restart"', 'then="act"']
    quiet: {within: 1h, then: act}
targets:`

// gatewayTurns is a gateway's active agent turns as the stage asks them.
type gatewayTurns struct {
	mu     sync.Mutex
	active int
	err    error
	asked  int
}

func (g *gatewayTurns) set(active int, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active, g.err = active, err
}

func (g *gatewayTurns) turns(context.Context, *config.Target) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked++
	return g.active, g.err
}

// quietFixture is the quiet stage on the fixture, on a clock the test
// moves, with the runner's hand-back recorded.
type quietFixture struct {
	*fixture
	clock time.Time
	gw    gatewayTurns
	again []time.Duration
}

func newQuietFixture(t *testing.T) *quietFixture {
	return &quietFixture{fixture: newFixture(t, remtest.LimitsForTests+quietPolicies+remtest.CommandTarget(t, "default")),
		clock: time.Now()}
}

func (f *quietFixture) stage() quietStage {
	return quietStage{journal: f.j, now: func() time.Time { return f.clock }, turns: f.gw.turns,
		again:   func(_, _ string, d time.Duration) { f.again = append(f.again, d) },
		waiting: f.incs.waiting, decisions: f.incs.metrics.decisions, logger: f.o.Logger, journalError: f.incs.JournalError}
}

// admittedQuiet is a restart admitted under the policy for then, as Admit
// journals it: its deadline an hour from now.
func (f *quietFixture) admittedQuiet(id, then string) *Attempt {
	return f.admitted(id, "restart", func(i *journal.Incident) {
		i.Policy, i.ReceivedAt = "quiet_"+"then_"+then, f.clock
		i.Quiet = &journal.Quiet{Until: f.clock.Add(time.Hour), Then: then}
	})
}

// A quiet gateway: the incident goes on at once, and the gate begins it.
func TestQuietStageQuietNow(t *testing.T) {
	f := newQuietFixture(t)
	a := f.admittedQuiet("q", config.QuietThenApproval)
	if !f.stage().Exec(context.Background(), a) {
		t.Fatalf("a quiet gateway held the incident: %+v", f.incident("q"))
	}
	if inc := f.incident("q"); inc.Quiet.Outcome != journal.QuietFound || inc.Quiet.CheckedAt == nil || len(f.again) != 0 {
		t.Fatalf("quiet now: %+v %+v, handed back %v", inc, inc.Quiet, f.again)
	}
	if !f.gate().Exec(context.Background(), a) || f.incident("q").State != journal.StateRunning {
		t.Errorf("the gate did not begin a quiet incident: %+v", f.incident("q"))
	}
}

// A busy gateway: the incident waits, received, gives its runner back and
// says why; once the turn ends it goes on.
func TestQuietStageWaitsForTheTurn(t *testing.T) {
	f := newQuietFixture(t)
	a := f.admittedQuiet("w", config.QuietThenApproval)
	f.gw.set(1, nil)
	for i := range 2 {
		if f.stage().Exec(context.Background(), a) {
			t.Fatalf("look %d: went on during an agent turn", i)
		}
		f.clock = f.clock.Add(30 * time.Second)
	}
	inc := f.incident("w")
	if inc.State != journal.StateReceived || inc.Decision != journal.DecisionWaitingQuiet || inc.Quiet.ActiveTurns != 1 ||
		!strings.Contains(inc.Reason, "waits for a quiet moment until") || !strings.Contains(inc.Reason, "1 active agent turn") {
		t.Fatalf("waiting: %+v %+v", inc, inc.Quiet)
	}
	if len(f.again) != 2 || f.again[0] <= 0 || f.again[0] > 30*time.Second {
		t.Errorf("handed back after %v, want twice within 30s", f.again)
	}
	if got := testutil.ToFloat64(f.incs.metrics.decisions.WithLabelValues(journal.DecisionWaitingQuiet)); got != 1 {
		t.Errorf("waiting_quiet counted %v times, want once", got)
	}
	if f.incs.waiting.len() != 1 {
		t.Errorf("%d waiting, want 1", f.incs.waiting.len())
	}
	// A gateway that cannot be asked is not quiet.
	f.gw.set(0, errors.New("gateway rpc connect: refused"))
	if f.stage().Exec(context.Background(), a) {
		t.Fatal("went on without an answer from the gateway")
	}
	if inc := f.incident("w"); !strings.Contains(inc.Reason, "could not be asked") || inc.Quiet.Error == "" {
		t.Errorf("unanswered: %+v", inc)
	}
	f.gw.set(0, nil)
	if !f.stage().Exec(context.Background(), a) {
		t.Fatal("held after the turn ended")
	}
	if inc := f.incident("w"); inc.Quiet.Outcome != journal.QuietFound || !strings.Contains(inc.Reason, "a quiet moment after 1m0s") || f.incs.waiting.len() != 0 {
		t.Errorf("after the turn: %+v, %d waiting", inc, f.incs.waiting.len())
	}
}

// Busy past the deadline: by default a person is asked; with then: act it
// acts all the same, through the gate's limits.
func TestQuietStageDeadline(t *testing.T) {
	f := newQuietFixture(t)
	f.gw.set(2, nil)
	ask, act := f.admittedQuiet("ask", config.QuietThenApproval), f.admittedQuiet("act", config.QuietThenAct)
	for _, a := range []*Attempt{ask, act} {
		if f.stage().Exec(context.Background(), a) {
			t.Fatalf("%s: went on during agent turns", a.ID)
		}
	}
	f.clock = f.clock.Add(time.Hour)
	asked := f.gw.asked
	for _, a := range []*Attempt{ask, act} {
		if !f.stage().Exec(context.Background(), a) {
			t.Fatalf("%s: held past its deadline", a.ID)
		}
		if inc := f.incident(a.ID); inc.Quiet.Outcome != journal.QuietDeadline {
			t.Errorf("%s: %+v", a.ID, inc.Quiet)
		}
	}
	if f.gw.asked != asked {
		t.Error("the gateway was asked past the deadline")
	}
	if f.gate().Exec(context.Background(), ask) {
		t.Error("then approval: acted without a person")
	}
	if inc := f.incident("ask"); inc.State != journal.StatePending || !strings.Contains(inc.Reason, "no quiet moment before") {
		t.Errorf("then approval: %+v", inc)
	}
	if !f.gate().Exec(context.Background(), act) {
		t.Errorf("then act: did not act: %+v", f.incident("act"))
	}
	if inc := f.incident("act"); inc.State != journal.StateRunning || inc.Approval {
		t.Errorf("then act: %+v", inc)
	}
}

// What does not wait: an incident without a quiet policy, a dry run, one
// a person approved; none asks the gateway.
func TestQuietStageLeavesOthersAlone(t *testing.T) {
	f := newQuietFixture(t)
	f.gw.set(1, nil)
	for id, edit := range map[string]func(*journal.Incident){
		"plain": func(*journal.Incident) {},
		"dry":   func(i *journal.Incident) { i.DryRun = true },
		"approved": func(i *journal.Incident) {
			i.Quiet = &journal.Quiet{Until: f.clock.Add(time.Hour), Then: config.QuietThenApproval}
			i.State = journal.StateQueued
		},
	} {
		if !f.stage().Exec(context.Background(), f.admitted(id, "restart", edit)) {
			t.Errorf("%s: held", id)
		}
	}
	if f.gw.asked != 0 || len(f.again) != 0 {
		t.Errorf("asked the gateway %d times, handed back %v", f.gw.asked, f.again)
	}
}

// A restart of the remediator mid-wait loses nothing: the waiting incident
// is undecided and queued again, with its deadline. An alert that resolves
// meanwhile ends the wait without a restart.
func TestQuietStageAcrossARestartAndAResolvedAlert(t *testing.T) {
	f := newQuietFixture(t)
	f.gw.set(1, nil)
	a := f.admittedQuiet("w", config.QuietThenApproval)
	if f.stage().Exec(context.Background(), a) {
		t.Fatal("went on during an agent turn")
	}
	until := f.incident("w").Quiet.Until
	rec, err := f.j.Recover(f.clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Undecided) != 1 || rec.Undecided[0].ID != "w" || !rec.Undecided[0].Quiet.Until.Equal(until) {
		t.Fatalf("recovered %+v, want the waiting incident undecided with its deadline", rec.Undecided)
	}

	resolved := time.Now()
	if err := f.j.Update(func(tx journal.Tx) error {
		inc, err := tx.Incident("w")
		if err != nil {
			return err
		}
		inc.Status, inc.ResolvedAt = "resolved", &resolved
		return tx.PutIncident(inc)
	}); err != nil {
		t.Fatal(err)
	}
	if f.stage().Exec(context.Background(), a) {
		t.Fatal("a resolved alert went on")
	}
	if inc := f.incident("w"); inc.State != journal.StateDone || inc.Decision != journal.DecisionResolved || len(inc.Actions) != 0 || f.incs.waiting.len() != 0 {
		t.Errorf("resolved while waiting: %+v", inc)
	}
	if got := testutil.ToFloat64(f.incs.metrics.decisions.WithLabelValues(journal.DecisionResolved)); got != 1 {
		t.Errorf("resolved counted %v times", got)
	}
}
