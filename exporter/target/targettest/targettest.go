// Package targettest builds targets from YAML and runs one collector update
// into a map, for the exporter's collector tests.
package targettest

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/target"
)

// New parses a one-gateway exporter config and returns its target.
func New(t testing.TB, yaml string) *target.Target {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := target.New(cfg.Gateways[0], slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// Updater is what every per-gateway collector implements.
type Updater interface {
	Update(ch chan<- prometheus.Metric) error
}

// Collect runs one Update through a pedantic registry (which checks the
// series for consistency) and returns the values by series name, with the
// label values other than gateway in braces: `name{a=x,b=y}`.
// Histograms are reported by their sample count.
func Collect(t testing.TB, u Updater) (map[string]float64, error) {
	t.Helper()
	out, gatherErr, err := gather(u)
	if gatherErr != nil {
		t.Fatal(gatherErr)
	}
	return out, err
}

// Gather is Collect where there is no test to fail (a goroutine, a child
// process): an inconsistent series is returned as an error too.
func Gather(u Updater) (map[string]float64, error) {
	out, gatherErr, err := gather(u)
	if gatherErr != nil {
		return nil, gatherErr
	}
	return out, err
}

func gather(u Updater) (out map[string]float64, gatherErr, updateErr error) {
	c := &collector{u: u}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		return nil, err, c.err
	}
	out = map[string]float64{}
	for _, f := range families {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				if l.GetName() != "gateway" {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
			}
			key := f.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return out, nil, c.err
}

// collector is an unchecked collector around one Update.
type collector struct {
	u   Updater
	err error
}

func (c *collector) Describe(chan<- *prometheus.Desc)    {}
func (c *collector) Collect(ch chan<- prometheus.Metric) { c.err = c.u.Update(ch) }
