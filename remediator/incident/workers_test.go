package incident

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The workers stage holds a worker while its stage runs, and an attempt
// that cannot get one before the remediator stops is interrupted.
func TestWorkerStage(t *testing.T) {
	f := newFixture(t, "workers: 1\ntargets:"+remtest.CommandTarget(t, "default"))
	slots := make(chan struct{}, f.cfg.Workers)
	running := prometheus.NewGauge(prometheus.GaugeOpts{Name: "running"})
	var held int
	inner := StageFunc(func(context.Context, *Attempt) bool { held = len(slots); return true })
	a := &Attempt{}
	if !(workerStage{slots, running, inner}).Exec(context.Background(), a) || held != 1 || len(slots) != 0 {
		t.Fatalf("held %d workers while running, %d after", held, len(slots))
	}

	slots <- struct{}{} // the only worker is busy
	defer func() { <-slots }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	a = &Attempt{}
	(workerStage{slots, running, StageFunc(func(context.Context, *Attempt) bool { ran = true; return true })}).Exec(ctx, a)
	if ran || a.Result != journal.ResultInterrupted || a.Err == nil {
		t.Errorf("ran %v, result %s, err %v", ran, a.Result, a.Err)
	}
}
