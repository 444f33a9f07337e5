package incident

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The gate stage's decisions, each journaled in its one transaction.
func TestGateStage(t *testing.T) {
	f := newFixture(t, remtest.LimitsForTests+remtest.RestartNeedsApproval+remtest.CommandTarget(t, "default"))
	ctx := context.Background()

	a := f.begun("run", "cleanup_locks")
	if inc := f.incident("run"); inc.State != journal.StateRunning || inc.Decision != journal.DecisionExecuted || len(inc.Actions) != 1 || a.Action == nil {
		t.Fatalf("executed: %+v", inc)
	}
	if f.gate().Exec(ctx, &Attempt{ID: "run", Config: a.Config}) {
		t.Error("an incident decided before went through the gate again")
	}

	a = f.admitted("dry", "cleanup_locks", func(i *journal.Incident) { i.DryRun = true })
	if f.gate().Exec(ctx, a) {
		t.Error("a dry run went on")
	}
	if inc := f.incident("dry"); inc.State != journal.StateDone || inc.Decision != journal.DecisionDryRun {
		t.Errorf("dry run: %+v", inc)
	}

	a = f.admitted("wait", "restart", func(i *journal.Incident) { i.Approval = true })
	if f.gate().Exec(ctx, a) {
		t.Error("an incident that needs approval went on")
	}
	if inc := f.incident("wait"); inc.State != journal.StatePending || inc.ExpiresAt == nil {
		t.Errorf("approval: %+v", inc)
	}
	if n, _ := f.incs.pendingStats(); n != 1 {
		t.Errorf("%d pending, want 1", n)
	}

	a = f.admitted("gone", "restart", func(i *journal.Incident) { i.Target = "removed" })
	if f.gate().Exec(ctx, a) {
		t.Error("an incident of an unconfigured target went on")
	}
	if inc := f.incident("gone"); inc.Decision != journal.DecisionNoMatch || inc.Reason != "target no longer configured" {
		t.Errorf("target gone: %+v", inc)
	}
	if got := testutil.ToFloat64(f.incs.metrics.decisions.WithLabelValues(journal.DecisionDryRun)); got != 1 {
		t.Errorf("dry_run counted %v times", got)
	}
}

// While an upgrade's batch holds a target, a disruptive action on it ends
// "upgrading" with the upgrade's reason, and the journal says why; one
// that does not disrupt goes on.
func TestGateStageLeavesUpgradedTargetsAlone(t *testing.T) {
	f := newFixture(t, remtest.LimitsForTests+"targets:"+remtest.CommandTarget(t, "default"))
	f.o.Holds = func(target string) string { return "upgrade u1 holds the target" }
	a := f.admitted("held", "restart")
	if f.gate().Exec(context.Background(), a) {
		t.Fatal("a restart of a held target went on")
	}
	if inc := f.incident("held"); inc.Decision != journal.DecisionUpgrading || !strings.Contains(inc.Reason, "upgrade u1") || len(inc.Actions) != 0 {
		t.Fatalf("incident %+v", inc)
	}
	if got := testutil.ToFloat64(f.incs.metrics.decisions.WithLabelValues(journal.DecisionUpgrading)); got != 1 {
		t.Errorf("incidents_total{upgrading} = %v", got)
	}
	if !f.gate().Exec(context.Background(), f.admitted("locks", "cleanup_locks")) {
		t.Error("a lock cleanup of a held target was refused")
	}
}
