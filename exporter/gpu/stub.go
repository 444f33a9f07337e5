//go:build !cgo

package gpu

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

var errNoCgo = errors.New("this openclaw-exporter was built without cgo, so it cannot load NVML")

// Collector reports the GPU collector as unavailable: NVML needs cgo.
type Collector struct {
	logger *slog.Logger
	once   sync.Once
}

// Open returns the stub collector.
func Open(_ Options, logger *slog.Logger) *Collector { return &Collector{logger: logger} }

// Available says why there are no GPU metrics.
func (c *Collector) Available() error { return errNoCgo }

// Update sends openclaw_gpu_nvml_up 0 and says why once in the log.
func (c *Collector) Update(ch chan<- prometheus.Metric) error {
	c.once.Do(func() { c.logger.Info("GPU metrics unavailable", "err", errNoCgo) })
	ch <- prometheus.MustNewConstMetric(nvmlUpDesc, prometheus.GaugeValue, 0)
	return nil
}

// Close does nothing.
func (c *Collector) Close() {}
