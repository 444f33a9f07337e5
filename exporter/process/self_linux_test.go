//go:build linux && !clawwatch_portable

package process

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// TestSelfMatchesClientGolang compares NewSelf with client_golang's process
// collector on this process: the same series, names, types and HELP, and
// the same values where they do not move between two reads.
func TestSelfMatchesClientGolang(t *testing.T) {
	ours := gather(t, NewSelf())
	ref := gather(t, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if len(ours) != len(ref) {
		t.Errorf("%d families, client_golang's %d", len(ours), len(ref))
	}
	for name, r := range ref {
		o, ok := ours[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if o.GetType() != r.GetType() || o.GetHelp() != r.GetHelp() {
			t.Errorf("%s: type %v help %q, client_golang's %v %q", name, o.GetType(), o.GetHelp(), r.GetType(), r.GetHelp())
		}
	}
	val := func(fams map[string]*dto.MetricFamily, name string) float64 {
		f := fams[name]
		if f == nil || len(f.Metric) != 1 {
			t.Fatalf("%s: %v", name, f)
		}
		if c := f.Metric[0].GetCounter(); c != nil {
			return c.GetValue()
		}
		return f.Metric[0].GetGauge().GetValue()
	}
	for _, name := range []string{"process_max_fds", "process_virtual_memory_max_bytes"} {
		if o, r := val(ours, name), val(ref, name); o != r {
			t.Errorf("%s = %g, client_golang's %g", name, o, r)
		}
	}
	// client_golang's start time is in ticks (10 ms); ours the same ticks.
	if o, r := val(ours, "process_start_time_seconds"), val(ref, "process_start_time_seconds"); math.Abs(o-r) > 0.011 {
		t.Errorf("start time %f, client_golang's %f", o, r)
	}
	// CPU: ours from getrusage, theirs read after ours from stat, whose
	// utime and stime are each truncated to ticks.
	if o, r := val(ours, "process_cpu_seconds_total"), val(ref, "process_cpu_seconds_total"); o <= 0 || o > r+0.05 {
		t.Errorf("cpu %f, client_golang's (read later) %f", o, r)
	}
	if o := val(ours, "process_resident_memory_bytes"); o <= 0 {
		t.Errorf("resident memory %g", o)
	}
	if o, r := val(ours, "process_virtual_memory_bytes"), val(ref, "process_virtual_memory_bytes"); o <= 0 || math.Abs(o-r)/r > 0.5 {
		t.Errorf("virtual memory %g, client_golang's %g", o, r)
	}
}

// TestSelfCountsDescriptors opens files between scrapes: the count is read
// every scrape, not cached.
func TestSelfCountsDescriptors(t *testing.T) {
	c := NewSelf()
	before := gather(t, c)["process_open_fds"].Metric[0].GetGauge().GetValue()
	const n = 20
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	after := gather(t, c)["process_open_fds"].Metric[0].GetGauge().GetValue()
	if after < before+n {
		t.Errorf("open fds %g after opening %d more than %g", after, n, before)
	}
}

func TestReadNetstat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "netstat")
	data := "TcpExt: SyncookiesSent Foo\nTcpExt: 1 2\nIpExt: InNoRoutes InOctets OutOctets\nIpExt: 0 1234 5678\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if in, out, ok := readNetstat(path); !ok || in != 1234 || out != 5678 {
		t.Errorf("readNetstat = %g, %g, %v; want 1234, 5678, true", in, out, ok)
	}
	if err := os.WriteFile(path, []byte("IpExt: InNoRoutes\nIpExt: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := readNetstat(path); ok {
		t.Error("readNetstat without InOctets: ok")
	}
}

func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}
