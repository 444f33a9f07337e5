// Package process reports the gateway's process: descriptors, memory and
// its limit, CPU, threads, start time, TCP connections on its port, and how
// many gateway processes run. The process is found through internal/openclaw
// and cached by (pid, start time); nothing walks every process or every
// socket of the host per scrape (see refreshed).
package process

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shirou/gopsutil/v3/process"

	"github.com/clawwatch/clawwatch/exporter/target"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("openclaw_gateway_process_"+name, help, append([]string{"gateway"}, labels...), nil)
}

var (
	upDesc        = desc("up", "1 if the gateway process was found (listener on its port, live lock owner, or title).")
	openFDsDesc   = desc("open_fds", "Open file descriptors of the gateway process.")
	maxFDsDesc    = desc("max_fds", "Soft limit on open file descriptors of the gateway process.")
	residentDesc  = desc("resident_memory_bytes", "Resident memory of the gateway process.")
	virtualDesc   = desc("virtual_memory_bytes", "Virtual memory of the gateway process.")
	cpuDesc       = desc("cpu_seconds_total", "User and system CPU time of the gateway process.")
	threadsDesc   = desc("threads", "Threads of the gateway process.")
	startDesc     = desc("start_time_seconds", "Start time of the gateway process since the Unix epoch.")
	memLimitDesc  = desc("memory_limit_bytes", "Memory limit of the gateway process: the configured value, else its cgroup's (absent when unlimited).")
	tcpDesc       = desc("tcp_connections", "TCP sockets on the gateway port by state, in the gateway's network namespace.", "state")
	isGatewayDesc = desc("is_gateway", "1 if the process found is shown to be the gateway (its title, or a gateway lock with its pid and start time); 0 when another program holds the gateway port.")
	tcpAgeDesc    = desc("tcp_connections_age_seconds", "Seconds since the TCP counts were taken: they are refreshed in the background every 5 s, not by each scrape.")
	processesDesc = prometheus.NewDesc("openclaw_gateway_processes",
		"Gateway processes claiming this gateway: its own, and others started for its state directory (refreshed every minute); more than one is a conflict.", []string{"gateway"}, nil)
	processesAgeDesc = prometheus.NewDesc("openclaw_gateway_processes_age_seconds",
		"Seconds since the gateway processes were counted: they are counted in the background every minute, not by each scrape.", []string{"gateway"}, nil)
)

// Collector reports one gateway's process.
type Collector struct {
	t *target.Target

	// The counts that walk host-wide tables, refreshed in the background.
	tcp       refreshed[map[string]int]
	processes refreshed[int]

	mu sync.Mutex

	// The gopsutil handle of the current process, kept while its identity
	// holds: it caches the start time, which costs a read of /proc/stat
	// and of the process's stat file each time otherwise.
	procID openclaw.Process
	proc   *process.Process
	// confirmed is the last process shown to be the gateway; a process
	// that is not is checked again every scrape (Node retitles itself
	// only once it has started, and writes its lock then).
	confirmed openclaw.Process
	// impostor is the last process on the port found not to be the
	// gateway, so that it is logged once, not every scrape.
	impostor openclaw.Process
}

// The boot time does not change while we run; without the cache gopsutil
// re-reads /proc/stat for every CPU-time read. (Set once: the setting is an
// unsynchronised package variable.)
func init() { process.EnableBootTimeCache(true) }

// New returns a process collector for t.
func New(t *target.Target) *Collector {
	return &Collector{t: t, tcp: refreshed[map[string]int]{every: tcpEvery}, processes: refreshed[int]{every: countEvery}}
}

// Update reports the process. An absent process is reported as
// openclaw_gateway_process_up 0; a process that cannot be read (permissions)
// fails the collector instead of reporting zeros.
func (c *Collector) Update(ch chan<- prometheus.Metric) error {
	name := c.t.Config.Name
	id, _, err := c.t.Process()
	if n, at, err := c.processes.get(id, func() (int, error) { return c.countProcesses(id) }); err != nil {
		c.t.Logger.Warn("count gateway processes", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(processesDesc, prometheus.GaugeValue, float64(n), name)
		ch <- prometheus.MustNewConstMetric(processesAgeDesc, prometheus.GaugeValue, time.Since(at).Seconds(), name)
	}
	if err != nil {
		if target.ErrNoProcess(err) {
			ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0, name)
			return nil
		}
		return err
	}
	p, err := c.handle(id)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0, name)
		return nil // exited since discovery
	}
	fds, err := c.t.Procs.OpenFDs(id.PID)
	if err != nil {
		return fmt.Errorf("open fds of pid %d: %w", id.PID, err)
	}
	mem, err := p.MemoryInfo()
	if err != nil {
		return fmt.Errorf("memory of pid %d: %w", id.PID, err)
	}
	times, err := p.Times()
	if err != nil {
		return fmt.Errorf("cpu of pid %d: %w", id.PID, err)
	}
	threads, err := p.NumThreads()
	if err != nil {
		return fmt.Errorf("threads of pid %d: %w", id.PID, err)
	}
	created, err := p.CreateTime()
	if err != nil {
		return fmt.Errorf("start time of pid %d: %w", id.PID, err)
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1, name)
	if is, ok := c.isGateway(id); ok {
		ch <- prometheus.MustNewConstMetric(isGatewayDesc, prometheus.GaugeValue, is, name)
	}
	ch <- prometheus.MustNewConstMetric(openFDsDesc, prometheus.GaugeValue, float64(fds), name)
	if limit, err := maxFDs(c.t.Procs, id.PID); err == nil {
		ch <- prometheus.MustNewConstMetric(maxFDsDesc, prometheus.GaugeValue, limit, name)
	}
	ch <- prometheus.MustNewConstMetric(residentDesc, prometheus.GaugeValue, float64(mem.RSS), name)
	ch <- prometheus.MustNewConstMetric(virtualDesc, prometheus.GaugeValue, float64(mem.VMS), name)
	ch <- prometheus.MustNewConstMetric(cpuDesc, prometheus.CounterValue, times.User+times.System, name)
	ch <- prometheus.MustNewConstMetric(threadsDesc, prometheus.GaugeValue, float64(threads), name)
	ch <- prometheus.MustNewConstMetric(startDesc, prometheus.GaugeValue, float64(created)/1000, name)

	limit := c.t.Config.MemoryLimitBytes
	if limit == 0 {
		limit, _ = cgroupMemoryLimit(c.t.Procs, id.PID)
	}
	if limit > 0 {
		ch <- prometheus.MustNewConstMetric(memLimitDesc, prometheus.GaugeValue, float64(limit), name)
	}

	states, at, err := c.tcp.get(id, func() (map[string]int, error) { return c.t.Procs.TCPStates(id.PID, c.t.Config.Port()) })
	if err != nil {
		return fmt.Errorf("tcp connections of pid %d: %w", id.PID, err)
	}
	for _, s := range openclaw.TCPStateNames() {
		ch <- prometheus.MustNewConstMetric(tcpDesc, prometheus.GaugeValue, float64(states[s]), name, s)
	}
	ch <- prometheus.MustNewConstMetric(tcpAgeDesc, prometheus.GaugeValue, time.Since(at).Seconds(), name)
	return nil
}

// handle returns the gopsutil process for id, reusing the last one while
// the identity (pid and start time) is the same.
func (c *Collector) handle(id openclaw.Process) (*process.Process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil && c.procID == id {
		return c.proc, nil
	}
	p, err := process.NewProcess(int32(id.PID))
	if err != nil {
		return nil, err
	}
	c.procID, c.proc = id, p
	return p, nil
}

// isGateway says whether the process found is the gateway, or another
// program that holds its port (a restart would signal the wrong process,
// and the remediator refuses). ok is false when it exited meanwhile.
func (c *Collector) isGateway(id openclaw.Process) (float64, bool) {
	c.mu.Lock()
	known := c.confirmed == id
	c.mu.Unlock()
	if known {
		return 1, true
	}
	uids := []int{os.Getuid()}
	if uid, err := c.t.Procs.UID(id.PID); err == nil {
		uids = append([]int{uid}, uids...)
	}
	ident := openclaw.Identity{Procs: c.t.Procs, Port: c.t.Config.Port(), LockDirs: openclaw.LockDirsFor(c.t.Config.StateDir, "", uids...)}
	_, err := ident.Confirm(id)
	switch {
	case err == nil:
		c.mu.Lock()
		c.confirmed = id
		c.mu.Unlock()
		return 1, true
	case errors.Is(err, openclaw.ErrNotGateway):
		c.mu.Lock()
		first := c.impostor != id
		c.impostor = id
		c.mu.Unlock()
		if first {
			c.t.Logger.Warn("the process found for the gateway is not the gateway", "err", err)
		}
		return 0, true
	default:
		return 0, false
	}
}

// countProcesses counts the gateway-titled processes that claim this
// gateway: its own process (own, from discovery) and any other started for
// the same state directory, which is the conflict operators hit (a second
// copy wedged on the lock or the port). Gateways of other state directories
// on the same host are not counted. A process whose environment cannot be
// read (another user, without privileges) is counted: it may be competing,
// and it cannot be ruled out. It walks the whole process table, so it runs
// through c.processes, at most every countEvery.
func (c *Collector) countProcesses(own openclaw.Process) (int, error) {
	procs, err := c.t.Procs.FindByTitle()
	if err != nil {
		return 0, err
	}
	n := 0
	if own.PID > 0 {
		n++ // found by its port or lock, whatever its title
	}
	for _, p := range procs {
		if p != own && c.claimsStateDir(p.PID) {
			n++
		}
	}
	return n, nil
}

// claimsStateDir says whether pid was started for this gateway's state
// directory.
func (c *Collector) claimsStateDir(pid int) bool {
	dir, err := c.t.Procs.StateDir(pid)
	switch {
	case errors.Is(err, openclaw.ErrNoProcess):
		return false
	case err != nil:
		c.t.Logger.Debug("gateway process of unknown state directory counted", "pid", pid, "err", err)
		return true
	}
	return sameDir(dir, c.t.Config.StateDir)
}

// sameDir compares directories by identity where both exist (symlinks,
// bind mounts), else by cleaned path.
func sameDir(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// maxFDs reads the soft "Max open files" limit from /proc/PID/limits.
func maxFDs(procs openclaw.ProcFS, pid int) (float64, error) {
	f, err := os.Open(filepath.Join(procs.Root, strconv.Itoa(pid), "limits"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max open files"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			if fields[0] == "unlimited" {
				return math.Inf(1), nil
			}
			return strconv.ParseFloat(fields[0], 64)
		}
	}
	return 0, errors.New("no Max open files line")
}

// unlimitedV1 is what cgroup v1 reports for "no limit" (a page-rounded
// 2^63-1); anything that large means unlimited.
const unlimitedV1 = 1 << 62

// cgroupMemoryLimit finds the memory limit of pid's cgroup, v2 or v1. It
// returns 0 without error when there is none.
func cgroupMemoryLimit(procs openclaw.ProcFS, pid int) (int64, error) {
	data, err := os.ReadFile(filepath.Join(procs.Root, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			file = filepath.Join("/sys/fs/cgroup", parts[2], "memory.max")
		case strings.Contains(","+parts[1]+",", ",memory,"):
			file = filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes")
		default:
			continue
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			continue // the cgroup tree is not visible from here
		}
		v := strings.TrimSpace(string(raw))
		if v == "max" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n >= unlimitedV1 {
			return 0, err
		}
		return n, nil
	}
	return 0, nil
}
