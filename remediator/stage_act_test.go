package remediator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// partialAction did part of its job, as cleanup_logs does when files
// changed between its scan and its act.
type partialAction struct{}

func (partialAction) Spec() actions.Spec { return actions.Spec{Name: "cleanup_logs"} }

func (partialAction) Run(context.Context, *actions.Env) (actions.Result, error) {
	return actions.Result{Output: "deleted 2 file(s)"}, fmt.Errorf("%w: 1 file(s) changed since the scan", actions.ErrPartial)
}

// The act stage runs the registry's action with an environment and leaves
// its result for verify and record; it journals nothing.
func TestActStage(t *testing.T) {
	h := newHarness(t, limitsForTests+"targets:"+commandTarget(t, "default"))
	w := h.begun("locks", "cleanup_locks")
	if !(actStage{h.rem}).exec(context.Background(), w) {
		t.Fatal("act stopped the pipeline")
	}
	if w.result != journal.ResultSuccess || w.err != nil || !strings.HasPrefix(w.res.Output, "removed 0 lock file(s)") || w.env == nil {
		t.Errorf("result %s err %v output %q", w.result, w.err, w.res.Output)
	}
	if inc := h.incident("locks"); inc.Running() == nil {
		t.Errorf("act journaled the attempt's end: %+v", inc.Actions)
	}

	w.action = partialAction{}
	(actStage{h.rem}).exec(context.Background(), w)
	if w.result != journal.ResultPartial || !errors.Is(w.err, actions.ErrPartial) {
		t.Errorf("partial action: %s %v", w.result, w.err)
	}

	w.action = nil // an action that left the registry
	(actStage{h.rem}).exec(context.Background(), w)
	if w.result != journal.ResultFailure || w.err == nil || !strings.Contains(w.err.Error(), `unknown action "cleanup_locks"`) {
		t.Errorf("unknown action: %s %v", w.result, w.err)
	}
}
