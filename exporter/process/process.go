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

	"github.com/clawwatch/clawwatch/exporter/series"
	"github.com/clawwatch/clawwatch/exporter/target"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("openclaw_gateway_process_"+name, help, append([]string{"gateway"}, labels...), nil)
}

var (
	upDesc        = desc("up", "1 if the gateway process was found.")
	openFDsDesc   = desc("open_fds", "Open file descriptors of the gateway process.")
	maxFDsDesc    = desc("max_fds", "Soft limit on open file descriptors of the gateway process.")
	residentDesc  = desc("resident_memory_bytes", "Resident memory of the gateway process.")
	virtualDesc   = desc("virtual_memory_bytes", "Virtual memory of the gateway process.")
	cpuDesc       = desc("cpu_seconds_total", "User and system CPU time of the gateway process.")
	threadsDesc   = desc("threads", "Threads of the gateway process.")
	startDesc     = desc("start_time_seconds", "Start time of the gateway process since the Unix epoch.")
	memLimitDesc  = desc("memory_limit_bytes", "Memory limit of the gateway process (configured or its cgroup's).")
	tcpDesc       = desc("tcp_connections", "TCP sockets on the gateway port by state.", "state")
	isGatewayDesc = desc("is_gateway", "1 if the process found is shown to be the gateway by its title.")
	tcpAgeDesc    = desc("tcp_connections_age_seconds", "Seconds since the TCP counts were taken (in the background).")
	processesDesc = prometheus.NewDesc("openclaw_gateway_processes",
		"Gateway processes claiming this gateway; more than one is a conflict.", []string{"gateway"}, nil)
	processesAgeDesc = prometheus.NewDesc("openclaw_gateway_processes_age_seconds",
		"Seconds since the gateway processes were counted (in the background).", []string{"gateway"}, nil)
)

// Collector reports one gateway's process.
type Collector struct {
	t       *target.Target
	metrics series.Cache

	// The counts that walk host-wide tables, refreshed in the background.
	tcp       refreshed[map[string]int]
	processes refreshed[int]
	// The cgroup's memory limit changes rarely (systemctl set-property) and
	// costs two file reads and a parse; refreshed like the TCP counts.
	memLimit refreshed[int64]
	// The descriptor limit changes only by prlimit; refreshed likewise.
	maxFDs refreshed[float64]

	mu sync.Mutex

	// The boot time, for start times: read once, it does not change.
	boot    int64
	bootErr error
	bootSet sync.Once

	// confirmed is the last process shown to be the gateway; a process
	// that is not is checked again every scrape (Node retitles itself
	// only once it has started, and writes its lock then).
	confirmed openclaw.Process
	// impostor is the last process on the port found not to be the
	// gateway, so that it is logged once, not every scrape; it is judged
	// again after impostorEvery (at impostorAt), time enough for a gateway
	// still starting to retitle itself.
	impostor   openclaw.Process
	impostorAt time.Time
}

// New returns a process collector for t.
func New(t *target.Target) *Collector {
	return &Collector{t: t, tcp: refreshed[map[string]int]{every: tcpEvery}, processes: refreshed[int]{every: countEvery},
		memLimit: refreshed[int64]{every: tcpEvery}, maxFDs: refreshed[float64]{every: tcpEvery}}
}

// Update reports the process. An absent process is reported as
// openclaw_gateway_process_up 0; a process that cannot be read (permissions)
// fails the collector instead of reporting zeros.
func (c *Collector) Update(ch chan<- prometheus.Metric) error {
	if c.t.Procs.Root == "" {
		return c.updateHost(ch) // no /proc: host.go
	}

	name := c.t.Config.Name
	id, st, err := c.t.ProcessStat()
	if found, err := c.found(ch, id, err); !found {
		return err
	}
	fds, err := c.t.Procs.OpenFDs(id.PID)
	if errors.Is(err, openclaw.ErrNoProcess) {
		ch <- c.metrics.Gauge(upDesc, 0, name)
		return nil // exited since it was confirmed
	}
	if err != nil {
		return fmt.Errorf("open fds of pid %d: %w", id.PID, err)
	}
	boot, err := c.bootTime()
	if err != nil {
		return err
	}
	ch <- c.metrics.Gauge(upDesc, 1, name)
	if is, ok := c.isGateway(id); ok {
		ch <- c.metrics.Gauge(isGatewayDesc, is, name)
	}
	ch <- c.metrics.Gauge(openFDsDesc, float64(fds), name)
	if limit, _, err := c.maxFDs.get(id, func() (float64, error) { return maxFDs(c.t.Procs, id.PID) }); err == nil {
		ch <- c.metrics.Gauge(maxFDsDesc, limit, name)
	}
	ch <- c.metrics.Gauge(residentDesc, float64(st.RSSPages*uint64(os.Getpagesize())), name)
	ch <- c.metrics.Gauge(virtualDesc, float64(st.VSize), name)
	ch <- c.metrics.Counter(cpuDesc, float64(st.CPUTicks)/userHZ, name)
	ch <- c.metrics.Gauge(threadsDesc, float64(st.Threads), name)
	ch <- c.metrics.Gauge(startDesc, float64(boot)+float64(id.StartTime)/userHZ, name)

	limit := c.t.Config.MemoryLimitBytes
	if limit == 0 {
		limit, _, _ = c.memLimit.get(id, func() (int64, error) { return cgroupMemoryLimit(c.t.Procs, id.PID) })
	}
	if limit > 0 {
		ch <- c.metrics.Gauge(memLimitDesc, float64(limit), name)
	}

	return c.tcpConnections(ch, id)
}

// isGateway says whether the process found is the gateway, or another
// program that holds its port or that a lock names (a restart would signal
// the wrong process; the remediator refuses, by the same Identity). ok is
// false when it exited meanwhile.
func (c *Collector) isGateway(id openclaw.Process) (float64, bool) {
	c.mu.Lock()
	known := c.confirmed == id
	judged := c.impostor == id && time.Since(c.impostorAt) < impostorEvery
	c.mu.Unlock()
	if known {
		return 1, true
	}
	if judged {
		return 0, true
	}
	_, err := openclaw.Identity{Procs: c.t.Procs}.Confirm(id)
	switch {
	case err == nil:
		c.mu.Lock()
		c.confirmed = id
		c.mu.Unlock()
		return 1, true
	case errors.Is(err, openclaw.ErrNotGateway):
		c.mu.Lock()
		first := c.impostor != id
		c.impostor, c.impostorAt = id, time.Now()
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
// tcpConnections reports the gateway's connections on its port by state,
// as the background refresh last counted them.
func (c *Collector) tcpConnections(ch chan<- prometheus.Metric, id openclaw.Process) error {
	name := c.t.Config.Name
	states, at, err := c.tcp.get(id, func() (map[string]int, error) { return c.t.Procs.TCPStates(id.PID, c.t.Config.Port()) })
	if err != nil {
		return fmt.Errorf("tcp connections of pid %d: %w", id.PID, err)
	}
	for _, s := range openclaw.TCPStateNames() {
		ch <- c.metrics.Gauge(tcpDesc, float64(states[s]), name, s)
	}
	ch <- c.metrics.Gauge(tcpAgeDesc, time.Since(at).Seconds(), name)
	return nil
}

// found reports how many gateway processes run and whether the gateway's
// own process, id (looked up with err), is there: when it is not, either
// openclaw_gateway_process_up 0 was sent or err stops the collector.
func (c *Collector) found(ch chan<- prometheus.Metric, id openclaw.Process, err error) (bool, error) {
	name := c.t.Config.Name
	if n, at, err := c.processes.get(id, func() (int, error) { return c.countProcesses(id) }); err != nil {
		c.t.Logger.Warn("count gateway processes", "err", err)
	} else {
		ch <- c.metrics.Gauge(processesDesc, float64(n), name)
		ch <- c.metrics.Gauge(processesAgeDesc, time.Since(at).Seconds(), name)
	}
	if err == nil {
		return true, nil
	}
	if target.ErrNoProcess(err) {
		ch <- c.metrics.Gauge(upDesc, 0, name)
		return false, nil
	}
	return false, err
}

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
	own, err := c.t.StateDir()
	if err != nil {
		return true // as unknown as an unreadable environment
	}
	return sameDir(dir, own)
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

// impostorEvery is how long a process found not to be the gateway stays
// judged: its title is read again after that, not every scrape.
const impostorEvery = 5 * time.Second

// userHZ is the kernel's USER_HZ, the unit of /proc's CPU and start times:
// 100 on every Linux architecture Go supports (as client_golang assumes).
const userHZ = 100

// bootTime is the btime line of the proc root's stat, in seconds since the
// epoch, read once.
func (c *Collector) bootTime() (int64, error) {
	c.bootSet.Do(func() { c.boot, c.bootErr = bootTime(c.t.Procs) })
	return c.boot, c.bootErr
}

// bootTime reads the btime line of procs' stat: seconds since the epoch.
func bootTime(procs openclaw.ProcFS) (int64, error) {
	path := filepath.Join(procs.Root, "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("boot time: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("boot time: no btime line in %s", path)
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
