package remediator

import (
	"context"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The workers stage holds a worker while its stage runs, and an attempt
// that cannot get one before the remediator stops is interrupted.
func TestWorkerStage(t *testing.T) {
	h := newHarness(t, "workers: 1\ntargets:"+commandTarget(t, "default"))
	var held int
	inner := stageFunc(func(context.Context, *work) bool { held = len(h.rem.sem); return true })
	w := &work{}
	if !(workerStage{h.rem, inner}).exec(context.Background(), w) || held != 1 || len(h.rem.sem) != 0 {
		t.Fatalf("held %d workers while running, %d after", held, len(h.rem.sem))
	}

	h.rem.sem <- struct{}{} // the only worker is busy
	defer func() { <-h.rem.sem }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	w = &work{}
	(workerStage{h.rem, stageFunc(func(context.Context, *work) bool { ran = true; return true })}).exec(ctx, w)
	if ran || w.result != journal.ResultInterrupted || w.err == nil {
		t.Errorf("ran %v, result %s, err %v", ran, w.result, w.err)
	}
}
