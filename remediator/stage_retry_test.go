package remediator

import (
	"context"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The retry stage runs its stage again, with the next attempt begun in the
// journal, until the outcome is not Retry.
func TestRetryStage(t *testing.T) {
	h := newHarness(t, limitsForTests+"targets:"+commandTarget(t, "default"))
	w := h.begun("retry", "restart")
	runs := 0
	inner := stageFunc(func(ctx context.Context, w *work) bool {
		runs++
		w.result = journal.ResultFailure
		if runs == 3 {
			w.result = journal.ResultSuccess
		}
		(recordStage{h.rem}).exec(ctx, w)
		return true
	})
	if !(retryStage{h.rem, inner}).exec(context.Background(), w) {
		t.Fatal("retry stopped the pipeline")
	}
	inc := h.incident("retry")
	if runs != 3 || len(inc.Actions) != 3 || inc.State != journal.StateDone || w.outcome != gate.Done {
		t.Fatalf("%d runs, %d attempts, state %s, outcome %v", runs, len(inc.Actions), inc.State, w.outcome)
	}
	for i, a := range inc.Actions {
		if a.Attempt != i+1 || a.EndedAt == nil {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
}
