package incident

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// fixture is the incidents over a journal of their own, without runners
// at work: a test takes an incident through single stages, each built
// here with what the pipeline builds it with.
type fixture struct {
	t    *testing.T
	cfg  *config.Config
	live atomic.Pointer[config.Config]
	j    *journal.Journal
	incs *Incidents
	o    Options
}

func newFixture(t *testing.T, cfgYAML string) *fixture {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(cfgYAML), dir, actions.ConfigSpecs())
	if err != nil {
		t.Fatalf("config: %v\n%s", err, cfgYAML)
	}
	j, err := journal.Open(cfg.Journal.Path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	f := &fixture{t: t, cfg: cfg, j: j}
	f.live.Store(cfg)
	o := Options{
		Journal: j, Config: f.live.Load, Now: time.Now, Logger: promslog.NewNopLogger(),
		Procs: openclaw.DefaultProcFS, Client: func(string) *http.Client { return http.DefaultClient }, Workers: cfg.Workers,
		Holds: func(string) string { return "" }, Escalate: func(*config.Config, *journal.Incident, *journal.Target) {},
		Registerer: prometheus.NewPedanticRegistry(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.incs, f.o = New(ctx, o), o
	return f
}

func (f *fixture) gate() gateStage {
	o := f.o
	return gateStage{journal: o.Journal, now: o.Now, holds: o.Holds,
		decisions: f.incs.metrics.decisions, logger: o.Logger, journalError: f.incs.JournalError}
}

func (f *fixture) act() actStage {
	return actStage{journal: f.o.Journal, now: f.o.Now, procs: f.o.Procs, client: f.o.Client}
}

func (f *fixture) record() recordStage {
	o := f.o
	return recordStage{journal: o.Journal, now: o.Now, metrics: f.incs.metrics, logger: o.Logger,
		escalate: o.Escalate, journalError: f.incs.JournalError}
}

// admitted journals an incident as the webhook would, without handing it
// to a runner.
func (f *fixture) admitted(id, action string, edit ...func(*journal.Incident)) *Attempt {
	f.t.Helper()
	inc := &journal.Incident{ID: id, Fingerprint: id, Status: "firing", State: journal.StateReceived, Action: action, Target: "default", Labels: map[string]string{}}
	for _, e := range edit {
		e(inc)
	}
	if _, err := f.j.Admit([]*journal.Incident{inc}, time.Now()); err != nil {
		f.t.Fatal(err)
	}
	return &Attempt{ID: id, Config: f.cfg}
}

// begun is an admitted incident whose first attempt the gate began, with
// its driver built as the claim stage builds it.
func (f *fixture) begun(id, action string) *Attempt {
	f.t.Helper()
	a := f.admitted(id, action)
	if !f.gate().Exec(context.Background(), a) {
		f.t.Fatalf("gate refused: %+v", a.Incident)
	}
	drv, err := f.cfg.Target(a.Incident.Target).NewDriver(f.o.Procs)
	if err != nil {
		f.t.Fatal(err)
	}
	a.Driver = drv
	return a
}

func (f *fixture) incident(id string) *journal.Incident {
	f.t.Helper()
	inc, err := f.j.Incident(id)
	if err != nil {
		f.t.Fatal(err)
	}
	return inc
}

// The stages compose like notify's: a MultiStage stops at the first stage
// that does not go on.
func TestMultiStageStops(t *testing.T) {
	var ran []string
	step := func(name string, ok bool) Stage {
		return StageFunc(func(context.Context, *Attempt) bool { ran = append(ran, name); return ok })
	}
	if (MultiStage{step("a", true), step("b", false), step("c", true)}).Exec(context.Background(), &Attempt{}) {
		t.Error("went on past a stage that stopped")
	}
	if len(ran) != 2 {
		t.Errorf("ran %v", ran)
	}
}
