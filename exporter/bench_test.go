package exporter_test

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/openclaw/proctest"
)

// BenchmarkScrapeVsProcessCollector scrapes every collector for a "gateway"
// holding 10,000 open FDs and 1,000 TCP connections on its port (this test
// process plays it), next to client_golang's process collector watching the
// same pid, and reports the ratio of the two costs. It also measures the
// kernel's floor for the TCP counts: a socket-diagnostics dump for a port
// with no sockets still walks every bucket of the established hash table
// (net.ipv4.tcp_ehash_entries), which no exporter can avoid, and reports the
// ratio without it.
func BenchmarkScrapeVsProcessCollector(b *testing.B) {
	addr := proctest.Connections(b, 1000)
	var keep []*os.File
	for len(keep) < 10000-2000 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			b.Fatal(err)
		}
		keep = append(keep, f)
	}
	defer func() {
		for _, f := range keep {
			f.Close()
		}
	}()

	cfg, err := config.Parse(fmt.Appendf(nil, "gateways:\n  - name: bench\n    url: http://%s\n    state_dir: %s\n    log_dir: %s\n    probe_interval: 1h\n",
		addr, b.TempDir(), b.TempDir()), "")
	if err != nil {
		b.Fatal(err)
	}
	exp, err := exporter.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Close()
	ours := prometheus.NewRegistry()
	ours.MustRegister(exp)
	ref := prometheus.NewRegistry()
	ref.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{PidFn: func() (int, error) { return os.Getpid(), nil }}))
	if _, err := ours.Gather(); err != nil { // first scrape: discovery and title count
		b.Fatal(err)
	}

	idle, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	idlePort := idle.Addr().(*net.TCPAddr).Port
	idle.Close()

	var oursTime, refTime, walkTime time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := openclaw.DefaultProcFS.TCPStates(os.Getpid(), idlePort); err != nil {
			b.Fatal(err)
		}
		walkTime += time.Since(start)
		start = time.Now()
		if _, err := ours.Gather(); err != nil {
			b.Fatal(err)
		}
		oursTime += time.Since(start)
		start = time.Now()
		if _, err := ref.Gather(); err != nil {
			b.Fatal(err)
		}
		refTime += time.Since(start)
	}
	b.ReportMetric(float64(oursTime.Nanoseconds())/float64(b.N), "ns/scrape")
	b.ReportMetric(float64(refTime.Nanoseconds())/float64(b.N), "ns/process-collector")
	b.ReportMetric(float64(walkTime.Nanoseconds())/float64(b.N), "ns/kernel-walk")
	b.ReportMetric(float64(oursTime)/float64(refTime), "x-process-collector")
	b.ReportMetric(float64(oursTime-walkTime)/float64(refTime), "x-without-walk")
}
