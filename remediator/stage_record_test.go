package remediator

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The record stage ends the attempt in one transaction and lets the gate
// decide: a success ends the incident, so does a partial success, a
// failure with attempts left is retried, a refusal gives its attempt back.
func TestRecordStage(t *testing.T) {
	h := newHarness(t, limitsForTests+"targets:"+commandTarget(t, "default"))
	ctx := context.Background()

	w := h.begun("ok", "cleanup_locks")
	w.result, w.res.Output = journal.ResultSuccess, "removed 0"
	(recordStage{h.rem}).exec(ctx, w)
	inc := h.incident("ok")
	if inc.State != journal.StateDone || inc.Reason != journal.ResultSuccess || inc.Actions[0].Result != journal.ResultSuccess || w.outcome != gate.Done {
		t.Errorf("success: %+v, outcome %v", inc, w.outcome)
	}
	if got := h.counter("actions", "cleanup_locks", "default", "success"); got != 1 {
		t.Errorf("success counted %v times", got)
	}

	w = h.begun("refused", "rollback")
	w.result, w.err = journal.ResultRefused, fmt.Errorf("%w: nothing to roll back to", actions.ErrRefused)
	(recordStage{h.rem}).exec(ctx, w)
	inc = h.incident("refused")
	if inc.State != journal.StateDone || inc.Reason != w.err.Error() || w.outcome != gate.Done {
		t.Errorf("refusal: %+v", inc)
	}
	w = h.begun("partial", "cleanup_logs")
	w.result, w.err = journal.ResultPartial, fmt.Errorf("%w: 1 file(s) changed since the scan and were left alone: /x", actions.ErrPartial)
	(recordStage{h.rem}).exec(ctx, w)
	inc = h.incident("partial")
	if inc.State != journal.StateDone || inc.Reason != w.err.Error() || inc.Actions[0].Result != journal.ResultPartial || w.outcome != gate.Done {
		t.Errorf("partial: %+v, outcome %v", inc, w.outcome)
	}
	if got := h.counter("actions", "cleanup_logs", "default", journal.ResultPartial); got != 1 {
		t.Errorf("partial counted %v times", got)
	}
	w = h.begun("fail", "restart")
	w.result, w.err = journal.ResultFailure, errors.New("start failed")
	(recordStage{h.rem}).exec(ctx, w)
	inc = h.incident("fail")
	if inc.State != journal.StateRunning || inc.Running() != nil || w.outcome != gate.Retry {
		t.Errorf("failure with attempts left: %+v, outcome %v", inc, w.outcome)
	}

	ts, err := h.j.Target("default")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Attempts) != 1 { // the failed restart's; the refused rollback's was given back
		t.Errorf("attempts %v, want the restart's only", ts.Attempts)
	}
}
