package reload

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestReloadRecordsTheOutcome(t *testing.T) {
	g := NewGauges("test")
	reg := prometheus.NewRegistry()
	reg.MustRegister(g)
	if v := testutil.ToFloat64(g.success); v != 1 {
		t.Fatalf("a started binary's last load succeeded: got %v", v)
	}
	started := testutil.ToFloat64(g.at)
	if started <= 0 {
		t.Fatalf("success timestamp %v at start", started)
	}

	fail := errors.New("bad file")
	var next error
	r := New("cfg.yml", func() error { return next }, g.Record, slog.New(slog.DiscardHandler))
	next = fail
	if err := r.Reload(); !errors.Is(err, fail) {
		t.Fatalf("Reload = %v, want the load's error", err)
	}
	if v := testutil.ToFloat64(g.success); v != 0 {
		t.Errorf("after a failed load: successful %v, want 0", v)
	}
	if v := testutil.ToFloat64(g.at); v != started {
		t.Errorf("a failed load moved the success timestamp: %v → %v", started, v)
	}
	next = nil
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ToFloat64(g.success); v != 1 {
		t.Errorf("after a good load: successful %v, want 1", v)
	}

	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
	want := "test_config_last_reload_successful 1\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader("# HELP test_config_last_reload_successful 1 if the last configuration load succeeded.\n# TYPE test_config_last_reload_successful gauge\n"+want), "test_config_last_reload_successful"); err != nil {
		t.Error(err)
	}
}
