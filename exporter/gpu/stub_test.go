//go:build !cgo

package gpu

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type updater struct{ c *Collector }

func (u updater) Describe(chan<- *prometheus.Desc) {}
func (u updater) Collect(ch chan<- prometheus.Metric) {
	if err := u.c.Update(ch); err != nil {
		t := prometheus.NewDesc("gpu_error", "", nil, nil)
		ch <- prometheus.NewInvalidMetric(t, err)
	}
}

// Without cgo the collector cannot load NVML: it says so and reports 0.
func TestStubReportsUnavailable(t *testing.T) {
	c := Open(Options{}, slog.New(slog.DiscardHandler))
	if err := c.Available(); err == nil || !strings.Contains(err.Error(), "cgo") {
		t.Errorf("Available() = %v", err)
	}
	want := "# HELP openclaw_gpu_nvml_up " + nvmlUpHelp + "\n# TYPE openclaw_gpu_nvml_up gauge\nopenclaw_gpu_nvml_up 0\n"
	if err := testutil.CollectAndCompare(updater{c}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
