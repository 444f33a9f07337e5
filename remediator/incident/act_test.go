package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
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
	f := newFixture(t, remtest.LimitsForTests+"targets:"+remtest.CommandTarget(t, "default"))
	a := f.begun("locks", "cleanup_locks")
	if !f.act().Exec(context.Background(), a) {
		t.Fatal("act stopped the pipeline")
	}
	if a.Result != journal.ResultSuccess || a.Err != nil || !strings.HasPrefix(a.Output.Output, "removed 0 lock file(s)") || a.Env == nil {
		t.Errorf("result %s err %v output %q", a.Result, a.Err, a.Output.Output)
	}
	if inc := f.incident("locks"); inc.Running() == nil {
		t.Errorf("act journaled the attempt's end: %+v", inc.Actions)
	}

	a.Action = partialAction{}
	f.act().Exec(context.Background(), a)
	if a.Result != journal.ResultPartial || !errors.Is(a.Err, actions.ErrPartial) {
		t.Errorf("partial action: %s %v", a.Result, a.Err)
	}

	a.Action = nil // an action that left the registry
	f.act().Exec(context.Background(), a)
	if a.Result != journal.ResultFailure || a.Err == nil || !strings.Contains(a.Err.Error(), `unknown action "cleanup_locks"`) {
		t.Errorf("unknown action: %s %v", a.Result, a.Err)
	}
}
