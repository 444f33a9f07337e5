package incident

import (
	"context"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The retry stage runs its stage again, with the next attempt begun in the
// journal, until the outcome is not Retry.
func TestRetryStage(t *testing.T) {
	f := newFixture(t, remtest.LimitsForTests+"targets:"+remtest.CommandTarget(t, "default"))
	a := f.begun("retry", "restart")
	runs := 0
	inner := StageFunc(func(ctx context.Context, a *Attempt) bool {
		runs++
		a.Result = journal.ResultFailure
		if runs == 3 {
			a.Result = journal.ResultSuccess
		}
		f.record().Exec(ctx, a)
		return true
	})
	retry := retryStage{journal: f.j, now: time.Now, config: f.o.Config, logger: f.o.Logger, journalError: f.incs.JournalError, stage: inner}
	if !retry.Exec(context.Background(), a) {
		t.Fatal("retry stopped the pipeline")
	}
	inc := f.incident("retry")
	if runs != 3 || len(inc.Actions) != 3 || inc.State != journal.StateDone || a.Outcome != gate.Done {
		t.Fatalf("%d runs, %d attempts, state %s, outcome %v", runs, len(inc.Actions), inc.State, a.Outcome)
	}
	for i, a := range inc.Actions {
		if a.Attempt != i+1 || a.EndedAt == nil {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
}
