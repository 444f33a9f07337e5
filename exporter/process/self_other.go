//go:build !linux || clawwatch_portable

package process

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewSelf returns the collector of the exporter's own process_* series:
// client_golang's where there is no /proc.
func NewSelf() prometheus.Collector {
	return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
}
