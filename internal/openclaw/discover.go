package openclaw

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ErrNotFound means no gateway process could be found by any method.
var ErrNotFound = errors.New("gateway process not found")

// Method says how a gateway process was found.
type Method string

const (
	ByPort  Method = "port"  // the process that LISTENs on the gateway port
	ByLock  Method = "lock"  // the live owner of a trusted gateway lock
	ByTitle Method = "title" // a process titled like a gateway
)

// ListenInodes returns the socket inodes in LISTEN state on the TCP port,
// IPv4 and IPv6, as seen in the network namespace of the proc root.
func (p ProcFS) ListenInodes(port int) ([]uint64, error) {
	if p.host() {
		return nil, errNoInodes
	}
	var inodes []uint64
	err := p.scanTCP(0, port, func(state string, inode uint64) {
		if state == tcpListen && inode != 0 {
			inodes = append(inodes, inode)
		}
	})
	return inodes, err
}

// TCPStates counts the sockets on a local TCP port by state (established,
// time_wait, …, listen) in the network namespace of pid: through the
// kernel's socket diagnostics when pid shares ours, else from its
// /proc/PID/net/tcp tables.
func (p ProcFS) TCPStates(pid, port int) (map[string]int, error) {
	if p.host() {
		return hostTCPStates(port)
	}
	if p.sameNetNS(pid) {
		if counts, err := tcpStatesDiag(port); err == nil {
			return counts, nil
		}
	}
	return p.tcpStatesProc(pid, port)
}

func (p ProcFS) tcpStatesProc(pid, port int) (map[string]int, error) {
	counts := map[string]int{}
	err := p.scanTCP(pid, port, func(state string, _ uint64) {
		name, ok := tcpStateNames[state]
		if !ok {
			name = "unknown"
		}
		counts[name]++
	})
	return counts, err
}

const tcpListen = "0A"

// tcpStateNames are the kernel's TCP states as /proc/net/tcp spells them.
var tcpStateNames = map[string]string{
	"01": "established", "02": "syn_sent", "03": "syn_recv", "04": "fin_wait1",
	"05": "fin_wait2", "06": "time_wait", "07": "close", "08": "close_wait",
	"09": "last_ack", tcpListen: "listen", "0B": "closing", "0C": "new_syn_recv",
}

// TCPStateNames lists every state TCPStates can report, for series that
// should exist at 0.
func TCPStateNames() []string {
	names := make([]string, 0, len(tcpStateNames))
	for _, n := range tcpStateNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// scanTCP calls fn for each IPv4 and IPv6 socket whose local port is port,
// from the tables of pid's network namespace (pid 0: the proc root's).
func (p ProcFS) scanTCP(pid, port int, fn func(state string, inode uint64)) error {
	want := fmt.Sprintf(":%04X", port)
	for _, name := range []string{"tcp", "tcp6"} {
		path := p.path("net", name)
		if pid > 0 {
			path = p.path(strconv.Itoa(pid), "net", name)
		}
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // no IPv6 in this kernel
			}
			return err
		}
		// Large reads: the kernel formats the table per read call, and
		// with thousands of sockets 4 KiB reads cost several times more.
		sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<20))
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || !strings.HasSuffix(fields[1], want) {
				continue
			}
			inode, _ := strconv.ParseUint(fields[9], 10, 64)
			fn(fields[3], inode)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	return nil
}

// ownsSocket reports whether one of pid's descriptors is one of the sockets.
func (p ProcFS) ownsSocket(pid int, inodes map[string]bool) bool {
	dir := p.path(strconv.Itoa(pid), "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false // gone, or not ours to read
	}
	for _, e := range entries {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err == nil && inodes[target] {
			return true
		}
	}
	return false
}

// ListenerPID returns the process that holds a LISTEN socket on the port.
// candidates are checked first, so a known pid costs one fd directory read
// instead of a walk over every process.
func (p ProcFS) ListenerPID(port int, candidates ...int) (int, error) {
	if p.host() {
		return hostListenerPID(port)
	}
	inodes, err := p.ListenInodes(port)
	if err != nil {
		return 0, err
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no listener on port %d: %w", port, ErrNotFound)
	}
	want := make(map[string]bool, len(inodes))
	for _, ino := range inodes {
		want["socket:["+strconv.FormatUint(ino, 10)+"]"] = true
	}
	for _, pid := range candidates {
		if p.ownsSocket(pid, want) {
			return pid, nil
		}
	}
	pids, err := p.PIDs()
	if err != nil {
		return 0, err
	}
	for _, pid := range pids {
		if p.ownsSocket(pid, want) {
			return pid, nil
		}
	}
	// The socket exists but its owner's fds are unreadable: another user
	// without CAP_SYS_PTRACE, or another pid namespace. Not "not found":
	// calling a gateway we cannot see dead would restart a healthy one.
	return 0, fmt.Errorf("port %d is listening but its owner is not visible: %w", port, ErrNotVisible)
}

// IsGatewayTitle reports whether a process's comm or argv look like a
// running gateway: current builds retitle themselves to "openclaw-gateway"
// (comm is cut to 15 characters); older ones ran as "openclaw gateway run",
// directly or through node (with node's own --options before the entry
// point: openclaw.mjs, the package's bin, or its dist/entry.js or
// dist/index.js). Other subcommands (status, stop) and wrappers such as
// sudo or timeout are not gateways.
func IsGatewayTitle(comm string, argv []string) bool {
	if comm == "openclaw-gatewa" || comm == "openclaw-gateway" {
		return true
	}
	if len(argv) == 0 {
		return false
	}
	if strings.HasPrefix(argv[0], "openclaw-gateway") {
		return true
	}
	args := argv
	if b := base(args[0]); b == "node" || b == "nodejs" {
		args = args[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			args = args[1:]
		}
	}
	if len(args) < 2 || !isEntryPoint(args[0]) || args[1] != "gateway" {
		return false
	}
	// "openclaw gateway" alone, "openclaw gateway run …" or "openclaw gateway --port …".
	return len(args) == 2 || args[2] == "run" || strings.HasPrefix(args[2], "-")
}

// isEntryPoint reports whether path runs the openclaw CLI: its bin, or one
// of the entry points of its npm package that the gateway itself recognises.
func isEntryPoint(path string) bool {
	if b := base(path); b == "openclaw" || b == "openclaw.mjs" {
		return true
	}
	path = filepath.ToSlash(path)
	return strings.HasSuffix(path, "/openclaw/dist/entry.js") || strings.HasSuffix(path, "/openclaw/dist/index.js")
}

// base is the last element of a path, either separator on Windows, without
// Windows' .exe (node.exe).
func base(path string) string {
	path = filepath.ToSlash(path)
	return strings.TrimSuffix(path[strings.LastIndexByte(path, '/')+1:], ".exe")
}

// FindByTitle walks the process table for gateway-titled processes. It is
// the last resort and the way to count competing gateways, not a per-scrape
// operation.
func (p ProcFS) FindByTitle() ([]Process, error) {
	pids, err := p.PIDs()
	if err != nil {
		return nil, err
	}
	var out []Process
	for _, pid := range pids {
		st, err := p.Stat(pid)
		if err != nil || st.State == 'Z' {
			continue
		}
		argv, _ := p.Cmdline(pid)
		if !IsGatewayTitle(st.Comm, argv) {
			continue
		}
		// A retitled gateway's own children are not gateways.
		if pst, err := p.Stat(st.PPID); err == nil && pst.Comm == "openclaw-gatewa" {
			continue
		}
		out = append(out, Process{PID: pid, StartTime: st.StartTime})
	}
	return out, nil
}

// Discoverer finds a gateway's process. The zero Port disables the port
// method, empty LockDirs the lock method, SkipTitle the title method (a walk
// over every process, too costly for every scrape).
type Discoverer struct {
	Procs     ProcFS
	Port      int
	LockDirs  []string
	SkipTitle bool
}

// Find tries the listener on the port, then the live owner of a trusted
// gateway lock (FindLocks) that runs as the lock's owner, then the process
// title. known, if non-zero, is checked first so that an unchanged gateway
// is confirmed cheaply. What it finds is a candidate: Identity decides
// whether it is the gateway.
func (d Discoverer) Find(known Process) (Process, Method, error) {
	var errs []error
	if d.Port > 0 {
		var cands []int
		if known.PID > 0 {
			cands = append(cands, known.PID)
		}
		pid, err := d.Procs.ListenerPID(d.Port, cands...)
		if err == nil {
			proc, err := d.Procs.Identify(pid)
			if err == nil {
				return proc, ByPort, nil
			}
			errs = append(errs, err)
		} else {
			errs = append(errs, err)
		}
	}
	if len(d.LockDirs) > 0 {
		locks, err := FindLocks(d.LockDirs...)
		if err != nil {
			errs = append(errs, err)
		}
		for _, lf := range locks {
			if lf.Err != nil || !lf.Trusted() || !lf.Lock.GatewayRole() || (d.Port > 0 && lf.Lock.Port != 0 && lf.Lock.Port != d.Port) {
				continue // unreadable, anyone's, another command's or another gateway's lock
			}
			if st, err := lf.Lock.State(d.Procs); err == nil && st == LockLive {
				proc, err := d.Procs.Identify(lf.Lock.PID)
				if err == nil && lf.vouchesFor(d.Procs, proc.PID) {
					return proc, ByLock, nil
				}
				if errors.Is(err, ErrNoProcess) && d.Procs.hiddenAlive(lf.Lock.PID) {
					errs = append(errs, fmt.Errorf("lock %s: owner %d: %w", lf.Path, lf.Lock.PID, ErrNotVisible))
				}
			}
		}
	}
	if !d.SkipTitle {
		procs, err := d.Procs.FindByTitle()
		if err != nil {
			errs = append(errs, err)
		}
		// Only an unambiguous title identifies the gateway: with several,
		// picking one could name another gateway's process.
		if len(procs) == 1 {
			return procs[0], ByTitle, nil
		}
		if len(procs) > 1 {
			errs = append(errs, fmt.Errorf("%d processes titled like a gateway", len(procs)))
		}
	}
	// Not found only when nothing showed a gateway we could not see.
	if !slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, ErrNotVisible) }) {
		errs = append(errs, ErrNotFound)
	}
	return Process{}, "", errors.Join(errs...)
}
