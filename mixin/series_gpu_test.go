//go:build cgo

package mixin

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/clawwatch/clawwatch/exporter/gpu"
	"github.com/clawwatch/clawwatch/exporter/gpu/gputest"
)

// gpuSeries collects the GPU collector over go-nvml's 8×A100 mock host, on
// which device 0 runs a compute process with pid 1000: call it the gateway.
func gpuSeries(t *testing.T, _ []string) (map[string]bool, error) {
	procs := func() []gpu.Process { return []gpu.Process{{PID: 1000, Gateway: "sim", Role: gpu.RoleGateway}} }
	c := gpu.New(gputest.NewHost(), gpu.Options{Processes: procs}, slog.New(slog.DiscardHandler))
	defer c.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(updater{c})
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			return nil, err
		}
	}
	return typeLines(strings.NewReader(text.String()))
}

// updater adapts a collector's Update to prometheus.Collector (unchecked).
type updater struct {
	u interface {
		Update(ch chan<- prometheus.Metric) error
	}
}

func (updater) Describe(chan<- *prometheus.Desc) {}
func (u updater) Collect(ch chan<- prometheus.Metric) {
	_ = u.u.Update(ch)
}
