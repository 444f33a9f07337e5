//go:build linux && !clawwatch_portable

package process

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// netstatEvery is how long the network counters are reused: they are the
// network namespace's, a 3 KB file the kernel formats on every read, and a
// counter a few seconds old costs a rate nothing.
const netstatEvery = 5 * time.Second

// The standard process_* series, as client_golang's process collector names
// and describes them, so dashboards and alerts written for any Go exporter
// read them.
var (
	selfCPUDesc      = prometheus.NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", nil, nil)
	selfOpenFDsDesc  = prometheus.NewDesc("process_open_fds", "Number of open file descriptors.", nil, nil)
	selfMaxFDsDesc   = prometheus.NewDesc("process_max_fds", "Maximum number of open file descriptors.", nil, nil)
	selfVSizeDesc    = prometheus.NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil, nil)
	selfMaxVSizeDesc = prometheus.NewDesc("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", nil, nil)
	selfRSSDesc      = prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil)
	selfStartDesc    = prometheus.NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil, nil)
	selfInDesc       = prometheus.NewDesc("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", nil, nil)
	selfOutDesc      = prometheus.NewDesc("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", nil, nil)
)

// selfCollector reports the exporter's own process with client_golang's
// series, reading per scrape only what changes: CPU from getrusage, memory
// from statm, the descriptor count; limits from getrlimit, the start time
// once, the network counters at most every netstatEvery. client_golang's
// collector re-reads /proc/stat, limits and netstat on every scrape, which
// was a fifth of a scrape here.
type selfCollector struct {
	pid   int
	procs openclaw.ProcFS
	page  float64

	startOnce sync.Once
	start     float64
	startErr  error

	mu        sync.Mutex
	netAt     time.Time
	in, out   float64
	netstatOK bool

	// statm stays open: one read at offset 0 per scrape, where reading it
	// by name is open, stat, two reads and close.
	statmMu  sync.Mutex
	statmF   *os.File
	statmBuf [128]byte
}

// NewSelf returns the collector of the exporter's own process_* series.
func NewSelf() prometheus.Collector {
	return &selfCollector{pid: os.Getpid(), procs: openclaw.ProcFS{Root: "/proc"}, page: float64(os.Getpagesize())}
}

func (c *selfCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{selfCPUDesc, selfOpenFDsDesc, selfMaxFDsDesc, selfVSizeDesc,
		selfMaxVSizeDesc, selfRSSDesc, selfStartDesc, selfInDesc, selfOutDesc} {
		ch <- d
	}
}

func (c *selfCollector) Collect(ch chan<- prometheus.Metric) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		ch <- prometheus.MustNewConstMetric(selfCPUDesc, prometheus.CounterValue, cpu.Seconds())
	} else {
		ch <- prometheus.NewInvalidMetric(selfCPUDesc, fmt.Errorf("getrusage: %w", err))
	}
	if vsize, rss, err := c.statm(); err == nil {
		ch <- prometheus.MustNewConstMetric(selfVSizeDesc, prometheus.GaugeValue, vsize*c.page)
		ch <- prometheus.MustNewConstMetric(selfRSSDesc, prometheus.GaugeValue, rss*c.page)
	} else {
		ch <- prometheus.NewInvalidMetric(selfRSSDesc, err)
	}
	if start, err := c.startTime(); err == nil {
		ch <- prometheus.MustNewConstMetric(selfStartDesc, prometheus.GaugeValue, start)
	} else {
		ch <- prometheus.NewInvalidMetric(selfStartDesc, err)
	}
	if fds, err := c.procs.OpenFDs(c.pid); err == nil {
		ch <- prometheus.MustNewConstMetric(selfOpenFDsDesc, prometheus.GaugeValue, float64(fds))
	} else {
		ch <- prometheus.NewInvalidMetric(selfOpenFDsDesc, err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil {
		ch <- prometheus.MustNewConstMetric(selfMaxFDsDesc, prometheus.GaugeValue, float64(lim.Cur))
	}
	if err := unix.Getrlimit(unix.RLIMIT_AS, &lim); err == nil {
		ch <- prometheus.MustNewConstMetric(selfMaxVSizeDesc, prometheus.GaugeValue, float64(lim.Cur))
	}
	if in, out, ok := c.netstat(); ok {
		ch <- prometheus.MustNewConstMetric(selfInDesc, prometheus.CounterValue, in)
		ch <- prometheus.MustNewConstMetric(selfOutDesc, prometheus.CounterValue, out)
	}
}

// statm returns the virtual and resident size in pages: the same values
// as /proc/PID/stat's vsize and rss, from a shorter file.
func (c *selfCollector) statm() (vsize, rss float64, err error) {
	c.statmMu.Lock()
	defer c.statmMu.Unlock()
	if c.statmF == nil {
		if c.statmF, err = os.Open(c.procs.Root + "/self/statm"); err != nil {
			return 0, 0, fmt.Errorf("open statm: %w", err)
		}
	}
	n, err := c.statmF.ReadAt(c.statmBuf[:], 0)
	if err != nil && err != io.EOF {
		return 0, 0, fmt.Errorf("read statm: %w", err)
	}
	// "size resident shared text lib data dt": the first two numbers.
	var v [2]uint64
	rest := c.statmBuf[:n]
	for i := range v {
		field, after, _ := bytes.Cut(bytes.TrimLeft(rest, " "), []byte{' '})
		if v[i], err = strconv.ParseUint(string(field), 10, 64); err != nil {
			return 0, 0, fmt.Errorf("parse statm field %d: %w", i+1, err)
		}
		rest = after
	}
	return float64(v[0]), float64(v[1]), nil
}

// startTime is the process's start in seconds since the epoch, read once.
func (c *selfCollector) startTime() (float64, error) {
	c.startOnce.Do(func() {
		st, err := c.procs.Stat(c.pid)
		if err != nil {
			c.startErr = err
			return
		}
		boot, err := bootTime(c.procs)
		if err != nil {
			c.startErr = err
			return
		}
		c.start = float64(boot) + float64(st.StartTime)/userHZ
	})
	return c.start, c.startErr
}

// netstat returns the IpExt InOctets and OutOctets, at most netstatEvery
// old. ok is false where the file is unreadable or lacks them.
func (c *selfCollector) netstat() (in, out float64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.netAt.IsZero() && time.Since(c.netAt) < netstatEvery {
		return c.in, c.out, c.netstatOK
	}
	c.netAt = time.Now()
	c.in, c.out, c.netstatOK = readNetstat(c.procs.Root + "/self/net/netstat")
	return c.in, c.out, c.netstatOK
}

// readNetstat parses the IpExt header and value lines of a netstat file.
func readNetstat(path string) (in, out float64, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	var header []string
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		rest, found := bytes.CutPrefix(line, []byte("IpExt: "))
		if !found {
			continue
		}
		fields := bytes.Fields(rest)
		if header == nil {
			for _, f := range fields {
				header = append(header, string(f))
			}
			continue
		}
		var gotIn, gotOut bool
		for i, f := range fields {
			if i >= len(header) {
				break
			}
			switch header[i] {
			case "InOctets":
				in, err = strconv.ParseFloat(string(f), 64)
				gotIn = err == nil
			case "OutOctets":
				out, err = strconv.ParseFloat(string(f), 64)
				gotOut = err == nil
			}
		}
		return in, out, gotIn && gotOut
	}
	return 0, 0, false
}
