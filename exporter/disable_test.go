package exporter_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter"
)

// collectorsReported are the collector labels of
// openclaw_exporter_collector_success in one scrape.
func collectorsReported(t *testing.T, exp *exporter.Exporter) []string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "openclaw_exporter_collector_success" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "collector" {
					out = append(out, l.GetValue())
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestWithoutCollectors: a collector switched off reports nothing, not even
// its success series, so one that would fail for good on a host (files the
// exporter's user cannot read) raises no CollectorFailing; the others stay.
func TestWithoutCollectors(t *testing.T) {
	cfg := parse(t, "local", "")
	all, err := exporter.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(all.Close)
	if got, want := collectorsReported(t, all), []string{"gateway", "locks", "logs", "process"}; !slices.Equal(got, want) {
		t.Fatalf("all collectors on: got %v, want %v", got, want)
	}

	some, err := exporter.New(parse(t, "local", ""), slog.New(slog.DiscardHandler), exporter.WithoutCollectors("logs", "locks", "process"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(some.Close)
	if got, want := collectorsReported(t, some), []string{"gateway"}; !slices.Equal(got, want) {
		t.Errorf("logs, locks and process off: got %v, want %v", got, want)
	}

	// Left out across a reload too.
	if err := some.Apply(parse(t, "other", "")); err != nil {
		t.Fatal(err)
	}
	if got, want := collectorsReported(t, some), []string{"gateway"}; !slices.Equal(got, want) {
		t.Errorf("after reload: got %v, want %v", got, want)
	}
}

func TestWithoutUnknownCollector(t *testing.T) {
	_, err := exporter.New(parse(t, "local", ""), slog.New(slog.DiscardHandler), exporter.WithoutCollectors("disk"))
	if err == nil || !strings.Contains(err.Error(), `"disk"`) {
		t.Fatalf("got %v, want an error naming the unknown collector", err)
	}
}
