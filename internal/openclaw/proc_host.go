package openclaw

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/shirou/gopsutil/v3/net"
	"github.com/shirou/gopsutil/v3/process"
)

// The host path (ProcFS with an empty Root) reads processes and sockets
// through gopsutil, where there is no /proc. Start times there are
// milliseconds since the Unix epoch (gopsutil's CreateTime), not clock
// ticks since boot; a process is still identified by (pid, start time).

// errNoInodes: socket inodes are a /proc notion.
var errNoInodes = errors.New("socket inodes are only known from /proc")

func hostProc(pid int) (*process.Process, error) {
	if pid <= 0 || pid > 1<<31-1 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	p, err := process.NewProcessWithContext(context.Background(), int32(pid))
	if errors.Is(err, process.ErrorProcessNotRunning) {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	return p, nil
}

// hostErr wraps a gopsutil error about pid: gone is ErrNoProcess, denied is
// fs.ErrPermission, so callers tell them apart as with /proc.
func hostErr(what string, pid int, err error) error {
	if ok, perr := process.PidExistsWithContext(context.Background(), int32(pid)); perr == nil && !ok {
		return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	if errors.Is(err, process.ErrorNotPermitted) || errors.Is(err, fs.ErrPermission) || strings.Contains(strings.ToLower(err.Error()), "denied") {
		return fmt.Errorf("read %s of pid %d: %w: %w", what, pid, fs.ErrPermission, err)
	}
	return fmt.Errorf("read %s of pid %d: %w", what, pid, err)
}

func hostStat(pid int) (Stat, error) {
	p, err := hostProc(pid)
	if err != nil {
		return Stat{}, err
	}
	created, err := p.CreateTime()
	if err != nil {
		return Stat{}, hostErr("start time", pid, err)
	}
	st := Stat{StartTime: uint64(created), State: 'R'}
	if st.Comm, err = p.Name(); err != nil {
		return Stat{}, hostErr("name", pid, err)
	}
	if ppid, err := p.Ppid(); err == nil {
		st.PPID = int(ppid)
	}
	// A zombie counts as gone. Only Linux reports it cheaply: Windows has
	// none, and macOS's status costs a ps(1) per call (launchd reaps there).
	if runtime.GOOS == "linux" {
		if status, err := p.Status(); err == nil && slices.Contains(status, process.Zombie) {
			st.State = 'Z'
		}
	}
	return st, nil
}

func hostCmdline(pid int) ([]string, error) {
	p, err := hostProc(pid)
	if err != nil {
		return nil, err
	}
	args, err := p.CmdlineSlice()
	if err != nil {
		return nil, hostErr("command line", pid, err)
	}
	for i := range args {
		args[i] = strings.TrimRight(args[i], " ")
	}
	return args, nil
}

// hostStateDir reads the environment like StateDir; USERPROFILE is the
// gateway's home on Windows when HOME is not set. macOS does not show other
// processes' environments without cgo: the error says so.
func hostStateDir(pid int) (string, error) {
	p, err := hostProc(pid)
	if err != nil {
		return "", err
	}
	env, err := p.Environ()
	if err != nil {
		return "", hostErr("environment", pid, err)
	}
	var home, profile string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "OPENCLAW_STATE_DIR="); ok && v != "" {
			return filepath.Clean(v), nil
		}
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
		if v, ok := strings.CutPrefix(kv, "USERPROFILE="); ok {
			profile = v
		}
	}
	if home == "" {
		home = profile
	}
	if home == "" {
		return "", fmt.Errorf("pid %d: neither OPENCLAW_STATE_DIR nor HOME in its environment", pid)
	}
	return filepath.Join(home, ".openclaw"), nil
}

func hostPIDs() ([]int, error) {
	pids, err := process.PidsWithContext(context.Background())
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := make([]int, 0, len(pids))
	for _, p := range pids {
		if p > 0 {
			out = append(out, int(p))
		}
	}
	slices.Sort(out)
	return out, nil
}

func hostChildren(pid int) ([]int, error) {
	pids, err := hostPIDs()
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, k := range pids {
		if st, err := hostStat(k); err == nil && st.PPID == pid {
			kids = append(kids, k)
		}
	}
	return kids, nil
}

// hostOpenFDs counts descriptors (handles on Windows). macOS does not
// count another process's descriptors without cgo: the error says so.
func hostOpenFDs(pid int) (int, error) {
	p, err := hostProc(pid)
	if err != nil {
		return 0, err
	}
	n, err := p.NumFDs()
	if err != nil {
		return 0, hostErr("open descriptors", pid, err)
	}
	return int(n), nil
}

func hostUID(pid int) (int, error) {
	p, err := hostProc(pid)
	if err != nil {
		return 0, err
	}
	uids, err := p.Uids()
	if err != nil {
		return 0, hostErr("uid", pid, err)
	}
	if len(uids) == 0 {
		return 0, fmt.Errorf("pid %d: no uid", pid)
	}
	return int(uids[0]), nil
}

func hostRSS(pid int) (uint64, error) {
	p, err := hostProc(pid)
	if err != nil {
		return 0, err
	}
	m, err := p.MemoryInfo()
	if err != nil {
		return 0, hostErr("memory", pid, err)
	}
	return m.RSS, nil
}

// hostTCP lists the host's TCP sockets on a local port.
func hostTCP(port int) ([]net.ConnectionStat, error) {
	conns, err := net.ConnectionsWithContext(context.Background(), "tcp")
	if err != nil {
		return nil, fmt.Errorf("list TCP sockets: %w", err)
	}
	var out []net.ConnectionStat
	for _, c := range conns {
		if int(c.Laddr.Port) == port {
			out = append(out, c)
		}
	}
	return out, nil
}

func hostListenerPID(port int) (int, error) {
	conns, err := hostTCP(port)
	if err != nil {
		return 0, err
	}
	listening := false
	for _, c := range conns {
		if c.Status != "LISTEN" {
			continue
		}
		listening = true
		if c.Pid > 0 {
			return int(c.Pid), nil
		}
	}
	if !listening {
		return 0, fmt.Errorf("no listener on port %d: %w", port, ErrNotFound)
	}
	return 0, fmt.Errorf("port %d is listening but its owner is not visible: %w", port, ErrNotVisible)
}

// hostTCPStates counts the port's sockets by state, named as /proc names
// them (gopsutil spells them ESTABLISHED, TIME_WAIT, FIN_WAIT1, …).
func hostTCPStates(port int) (map[string]int, error) {
	conns, err := hostTCP(port)
	if err != nil {
		return nil, err
	}
	known := knownStates()
	counts := map[string]int{}
	for _, c := range conns {
		counts[hostStateName(c.Status, known)]++
	}
	return counts, nil
}

// hostStateName names a TCP state as /proc does, from gopsutil's spelling
// on Linux (FIN_WAIT1), Windows (FIN_WAIT_1, SYN_RECEIVED, CLOSED) or
// macOS's lsof (SYN_RCVD).
func hostStateName(status string, known map[string]bool) string {
	name := strings.ToLower(status)
	switch name {
	case "fin_wait_1":
		name = "fin_wait1"
	case "fin_wait_2":
		name = "fin_wait2"
	case "syn_received", "syn_rcvd":
		name = "syn_recv"
	case "closed":
		name = "close"
	}
	if !known[name] {
		return "unknown"
	}
	return name
}

// LockStartTime is the start time of pid as the gateway records it in its
// lock on this platform (Lock.StartTime), which a simulated gateway writes
// and Lock.State compares.
func (p ProcFS) LockStartTime(pid int) (uint64, error) {
	start, err := p.StartTime(pid)
	if err != nil || !p.host() {
		return start, err
	}
	return hostLockStart(pid, start)
}

// sameLockStart says whether a lock's recorded start time is that of the
// process pid, whose start time (in p's units) is start.
func (p ProcFS) sameLockStart(pid int, recorded, start uint64) bool {
	if !p.host() {
		return recorded == start
	}
	mine, err := hostLockStart(pid, start)
	return err == nil && mine == recorded
}

// Usage is what the exporter reports of a process on the host path.
type Usage struct {
	CPUSeconds    float64 // user and system
	Threads       int
	VirtualBytes  uint64
	ResidentBytes uint64
	StartSeconds  float64 // since the Unix epoch
}

// HostUsage reads pid's resource use through the operating system (the
// host path; /proc readers parse /proc/PID/stat instead).
func HostUsage(pid int) (Usage, error) {
	p, err := hostProc(pid)
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	created, err := p.CreateTime()
	if err != nil {
		return Usage{}, hostErr("start time", pid, err)
	}
	u.StartSeconds = float64(created) / 1000
	times, err := p.Times()
	if err != nil {
		return Usage{}, hostErr("CPU time", pid, err)
	}
	u.CPUSeconds = times.User + times.System
	mem, err := p.MemoryInfo()
	if err != nil {
		return Usage{}, hostErr("memory", pid, err)
	}
	u.VirtualBytes, u.ResidentBytes = mem.VMS, mem.RSS
	threads, err := p.NumThreads()
	if err != nil {
		return Usage{}, hostErr("threads", pid, err)
	}
	u.Threads = int(threads)
	return u, nil
}

func knownStates() map[string]bool {
	known := make(map[string]bool, len(tcpStateNames))
	for _, n := range tcpStateNames {
		known[n] = true
	}
	return known
}
