package remediator

import (
	"context"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// admitted journals an incident as the webhook would, without handing it
// to a runner, so that a test can take it through single stages.
func (h *harness) admitted(id, action string, edit ...func(*journal.Incident)) *work {
	h.t.Helper()
	inc := &journal.Incident{ID: id, Fingerprint: id, Status: "firing", State: journal.StateReceived, Action: action, Target: "default", Labels: map[string]string{}}
	for _, e := range edit {
		e(inc)
	}
	if _, err := h.j.Admit([]*journal.Incident{inc}, h.rem.now()); err != nil {
		h.t.Fatal(err)
	}
	return &work{id: id, cfg: h.rem.Config()}
}

// begun is an admitted incident whose first attempt the gate began.
func (h *harness) begun(id, action string) *work {
	h.t.Helper()
	w := h.admitted(id, action)
	if !(gateStage{h.rem}).exec(context.Background(), w) {
		h.t.Fatalf("gate refused: %+v", w.inc)
	}
	return w
}

func (h *harness) incident(id string) *journal.Incident {
	h.t.Helper()
	inc, err := h.j.Incident(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

// The stages compose like notify's: a multiStage stops at the first stage
// that does not go on.
func TestMultiStageStops(t *testing.T) {
	var ran []string
	step := func(name string, ok bool) stage {
		return stageFunc(func(context.Context, *work) bool { ran = append(ran, name); return ok })
	}
	if (multiStage{step("a", true), step("b", false), step("c", true)}).exec(context.Background(), &work{}) {
		t.Error("went on past a stage that stopped")
	}
	if len(ran) != 2 {
		t.Errorf("ran %v", ran)
	}
}
