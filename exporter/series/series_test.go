package series

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestSamplesAreConstMetrics: a cached series' samples write what
// prometheus.MustNewConstMetric's do, each with its own value, for series
// of one to more label values than are cached.
func TestSamplesAreConstMetrics(t *testing.T) {
	var c Cache
	for _, tc := range []struct {
		labels []string
		values []string
	}{
		{nil, nil},
		{[]string{"gateway"}, []string{"a"}},
		{[]string{"gateway", "state"}, []string{"a", "established"}},
		{[]string{"zeta", "alpha", "mid"}, []string{"z", "a", "m"}},
		{[]string{"gateway", "role", "path", "device"}, []string{"a", "logs", "/var/log", "8:1"}},
	} {
		desc := prometheus.NewDesc("test_series", "Help.", tc.labels, prometheus.Labels{"const": "c"})
		for _, typ := range []prometheus.ValueType{prometheus.GaugeValue, prometheus.CounterValue} {
			for _, v := range []float64{1, 2.5} {
				var got, want dto.Metric
				m := c.Gauge(desc, v, tc.values...)
				if typ == prometheus.CounterValue {
					m = c.Counter(desc, v, tc.values...)
				}
				if err := m.Write(&got); err != nil {
					t.Fatal(err)
				}
				if err := prometheus.MustNewConstMetric(desc, typ, v, tc.values...).Write(&want); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() || m.Desc() != desc {
					t.Errorf("%v %v %g: wrote %v, MustNewConstMetric %v", tc.values, typ, v, &got, &want)
				}
			}
		}
	}
}

// TestSharedLabelsStayIntact: appending to a sample's labels, as a wrapping
// registerer does, leaves the series' own labels as they were.
func TestSharedLabelsStayIntact(t *testing.T) {
	var c Cache
	desc := prometheus.NewDesc("test_series", "Help.", []string{"gateway"}, nil)
	var first dto.Metric
	if err := c.Gauge(desc, 1, "a").Write(&first); err != nil {
		t.Fatal(err)
	}
	extra, x := "extra", "x"
	_ = append(first.Label, &dto.LabelPair{Name: &extra, Value: &x})
	var second dto.Metric
	if err := c.Gauge(desc, 2, "a").Write(&second); err != nil {
		t.Fatal(err)
	}
	if len(second.Label) != 1 || second.Label[0].GetName() != "gateway" {
		t.Errorf("labels after an append to another sample's: %v", second.Label)
	}
}

func TestConcurrentUse(t *testing.T) {
	var c Cache
	desc := prometheus.NewDesc("test_series", "Help.", []string{"gateway", "n"}, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				var m dto.Metric
				if err := c.Gauge(desc, float64(i), "gw", string(rune('a'+(i+g)%5))).Write(&m); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkSample compares a cached series' sample with
// prometheus.MustNewConstMetric, each written as a scrape writes it.
func BenchmarkSample(b *testing.B) {
	desc := prometheus.NewDesc("test_series", "Help.", []string{"gateway", "state"}, nil)
	b.Run("cache", func(b *testing.B) {
		var c Cache
		for b.Loop() {
			var m dto.Metric
			_ = c.Gauge(desc, 1, "gateway", "established").Write(&m)
		}
	})
	b.Run("MustNewConstMetric", func(b *testing.B) {
		for b.Loop() {
			var m dto.Metric
			_ = prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, 1, "gateway", "established").Write(&m)
		}
	})
}
