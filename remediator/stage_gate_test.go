package remediator

import (
	"context"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The gate stage's decisions, each journaled in its one transaction.
func TestGateStage(t *testing.T) {
	h := newHarness(t, limitsForTests+approvalPolicy+commandTarget(t, "default"))
	ctx := context.Background()

	w := h.begun("run", "cleanup_locks")
	if inc := h.incident("run"); inc.State != journal.StateRunning || inc.Decision != journal.DecisionExecuted || len(inc.Actions) != 1 || w.action == nil {
		t.Fatalf("executed: %+v", inc)
	}
	if (gateStage{h.rem}).exec(ctx, &work{id: "run", cfg: w.cfg}) {
		t.Error("an incident decided before went through the gate again")
	}

	w = h.admitted("dry", "cleanup_locks", func(i *journal.Incident) { i.DryRun = true })
	if (gateStage{h.rem}).exec(ctx, w) {
		t.Error("a dry run went on")
	}
	if inc := h.incident("dry"); inc.State != journal.StateDone || inc.Decision != journal.DecisionDryRun {
		t.Errorf("dry run: %+v", inc)
	}

	w = h.admitted("wait", "restart", func(i *journal.Incident) { i.Approval = true })
	if (gateStage{h.rem}).exec(ctx, w) {
		t.Error("an incident that needs approval went on")
	}
	if inc := h.incident("wait"); inc.State != journal.StatePending || inc.ExpiresAt == nil {
		t.Errorf("approval: %+v", inc)
	}
	if n, _ := h.rem.pendingStats(); n != 1 {
		t.Errorf("%d pending, want 1", n)
	}

	w = h.admitted("gone", "restart", func(i *journal.Incident) { i.Target = "removed" })
	if (gateStage{h.rem}).exec(ctx, w) {
		t.Error("an incident of an unconfigured target went on")
	}
	if inc := h.incident("gone"); inc.Decision != journal.DecisionNoMatch || inc.Reason != "target no longer configured" {
		t.Errorf("target gone: %+v", inc)
	}
	if got := h.counter("incidents", journal.DecisionDryRun); got != 1 {
		t.Errorf("dry_run counted %v times", got)
	}
}
