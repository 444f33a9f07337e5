// Package series makes a collector's samples from label pairs built once
// per series: prometheus.MustNewConstMetric checks, allocates and sorts
// them again for every sample of every scrape, a few percent of a scrape's
// CPU over the exporter's couple of hundred samples.
package series

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// maxValues is the most label values a cached series has; a sample with
// more is made by prometheus.MustNewConstMetric.
const maxValues = 3

// Cache holds the series one collector has sent. Its label values should
// come from a bounded set (a gateway, a state, a pattern's name): every
// series is kept for the collector's life.
type Cache struct {
	mu     sync.Mutex
	series map[key][]*dto.LabelPair
}

type key struct {
	desc   *prometheus.Desc
	n      int
	values [maxValues]string
}

// Gauge is prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v,
// values...), with the label pairs of an earlier sample of the series.
func (c *Cache) Gauge(desc *prometheus.Desc, v float64, values ...string) prometheus.Metric {
	return c.sample(desc, prometheus.GaugeValue, v, values)
}

// Counter is Gauge for a counter.
func (c *Cache) Counter(desc *prometheus.Desc, v float64, values ...string) prometheus.Metric {
	return c.sample(desc, prometheus.CounterValue, v, values)
}

func (c *Cache) sample(desc *prometheus.Desc, typ prometheus.ValueType, v float64, values []string) prometheus.Metric {
	if len(values) > maxValues {
		return prometheus.MustNewConstMetric(desc, typ, v, slices.Clone(values)...)
	}
	k := key{desc: desc, n: len(values)}
	copy(k.values[:], values)
	c.mu.Lock()
	defer c.mu.Unlock()
	labels, ok := c.series[k]
	if !ok {
		// Checked, ordered and built as client_golang does it (this panics
		// where MustNewConstMetric would).
		var m dto.Metric
		// A copy: values stays on its caller's stack.
		if err := prometheus.MustNewConstMetric(desc, typ, v, slices.Clone(values)...).Write(&m); err != nil {
			panic(err)
		}
		// Full: whoever appends to a sample's labels (a wrapping
		// registerer) copies them rather than writing into the shared ones.
		labels = m.Label[:len(m.Label):len(m.Label)]
		if c.series == nil {
			c.series = map[key][]*dto.LabelPair{}
		}
		c.series[k] = labels
	}
	return &sample{desc: desc, labels: labels, typ: typ, v: v}
}

// sample is one value of a series; its labels are shared with the
// series' other samples and never changed.
type sample struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	typ    prometheus.ValueType
	v      float64
}

func (s *sample) Desc() *prometheus.Desc { return s.desc }

// Write points out at the sample's value, as it is never changed.
func (s *sample) Write(out *dto.Metric) error {
	out.Label = s.labels
	if s.typ == prometheus.CounterValue {
		out.Counter = &dto.Counter{Value: &s.v}
	} else {
		out.Gauge = &dto.Gauge{Value: &s.v}
	}
	return nil
}
