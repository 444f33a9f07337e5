package buildinfo

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/version"
)

func TestBuildInfoCarriesTheBuildDate(t *testing.T) {
	defer func(v, r, d string) { version.Version, version.Revision, version.BuildDate = v, r, d }(version.Version, version.Revision, version.BuildDate)
	version.Version, version.Revision, version.BuildDate = "0.3.0", "abc123", "20261201-05:30:00"
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector("openclaw_test"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "openclaw_test_build_info" {
		t.Fatalf("gathered %v", mfs)
	}
	labels := map[string]string{}
	for _, l := range mfs[0].GetMetric()[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	for k, want := range map[string]string{"version": "0.3.0", "revision": "abc123", "build_date": "20261201-05:30:00"} {
		if labels[k] != want {
			t.Errorf("label %s = %q, want %q (all: %v)", k, labels[k], want, labels)
		}
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
	if !strings.Contains(mfs[0].GetHelp(), "openclaw_test") {
		t.Errorf("help %q", mfs[0].GetHelp())
	}
}
