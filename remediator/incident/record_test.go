package incident

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The record stage ends the attempt in one transaction and lets the gate
// decide: a success ends the incident, so does a partial success, a
// failure with attempts left is retried, a refusal gives its attempt back.
func TestRecordStage(t *testing.T) {
	f := newFixture(t, remtest.LimitsForTests+"targets:"+remtest.CommandTarget(t, "default"))
	ctx := context.Background()

	a := f.begun("ok", "cleanup_locks")
	a.Result, a.Output.Output = journal.ResultSuccess, "removed 0"
	f.record().Exec(ctx, a)
	inc := f.incident("ok")
	if inc.State != journal.StateDone || inc.Reason != journal.ResultSuccess || inc.Actions[0].Result != journal.ResultSuccess || a.Outcome != gate.Done {
		t.Errorf("success: %+v, outcome %v", inc, a.Outcome)
	}
	if got := testutil.ToFloat64(f.incs.metrics.actions.WithLabelValues("cleanup_locks", "default", "success")); got != 1 {
		t.Errorf("success counted %v times", got)
	}

	a = f.begun("refused", "rollback")
	a.Result, a.Err = journal.ResultRefused, fmt.Errorf("%w: nothing to roll back to", actions.ErrRefused)
	f.record().Exec(ctx, a)
	inc = f.incident("refused")
	if inc.State != journal.StateDone || inc.Reason != a.Err.Error() || a.Outcome != gate.Done {
		t.Errorf("refusal: %+v", inc)
	}
	a = f.begun("partial", "cleanup_logs")
	a.Result, a.Err = journal.ResultPartial, fmt.Errorf("%w: 1 file(s) changed since the scan and were left alone: /x", actions.ErrPartial)
	f.record().Exec(ctx, a)
	inc = f.incident("partial")
	if inc.State != journal.StateDone || inc.Reason != a.Err.Error() || inc.Actions[0].Result != journal.ResultPartial || a.Outcome != gate.Done {
		t.Errorf("partial: %+v, outcome %v", inc, a.Outcome)
	}
	if got := testutil.ToFloat64(f.incs.metrics.actions.WithLabelValues("cleanup_logs", "default", journal.ResultPartial)); got != 1 {
		t.Errorf("partial counted %v times", got)
	}
	a = f.begun("fail", "restart")
	a.Result, a.Err = journal.ResultFailure, errors.New("start failed")
	f.record().Exec(ctx, a)
	inc = f.incident("fail")
	if inc.State != journal.StateRunning || inc.Running() != nil || a.Outcome != gate.Retry {
		t.Errorf("failure with attempts left: %+v, outcome %v", inc, a.Outcome)
	}

	ts, err := f.j.Target("default")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Attempts) != 1 { // the failed restart's; the refused rollback's was given back
		t.Errorf("attempts %v, want the restart's only", ts.Attempts)
	}
}
