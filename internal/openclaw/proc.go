package openclaw

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrNoProcess means the pid does not exist (any more).
var ErrNoProcess = errors.New("no such process")

// ErrNotVisible means a gateway shows that it exists (a socket listening on
// its port, a lock whose owner the kernel says is alive) but its process
// cannot be read: another user's process without CAP_SYS_PTRACE, /proc
// mounted with hidepid, or another pid namespace. It wraps fs.ErrPermission
// and is never ErrNotFound: the gateway is there, we cannot see it.
var ErrNotVisible = fmt.Errorf("gateway process not visible to this user: %w", fs.ErrPermission)

// Process identifies a process across pid reuse: a pid alone may name
// another program tomorrow, the pair (pid, start time) never does.
type Process struct {
	PID       int
	StartTime uint64 // clock ticks since boot, field 22 of /proc/PID/stat
}

// ProcFS reads the process table from a proc mount. Root is "/proc" on a
// Linux host; tests point it at a fake tree, and a containerised exporter at
// the host's proc mounted elsewhere. An empty Root reads the host's process
// table through the operating system's own interfaces (gopsutil: sysctl and
// libproc on macOS, the Win32 API on Windows), where there is no /proc.
type ProcFS struct {
	Root string
}

// DefaultProcFS reads this host's processes: /proc on Linux, else the
// portable path (proc_host.go). The clawwatch_portable build tag forces the
// portable path on Linux, so that the code macOS and Windows run is tested
// there too.
var DefaultProcFS = ProcFS{Root: defaultProcRoot}

// host reports whether p reads through the operating system, not a proc
// tree.
func (p ProcFS) host() bool { return p.Root == "" }

func (p ProcFS) path(parts ...string) string {
	return filepath.Join(append([]string{p.Root}, parts...)...)
}

// Stat is the part of /proc/PID/stat we use.
type Stat struct {
	Comm      string
	State     byte
	PPID      int
	StartTime uint64
	// What the exporter reports of the gateway from the same read.
	CPUTicks uint64 // utime + stime, in USER_HZ
	Threads  int
	VSize    uint64 // bytes
	RSSPages uint64
}

// Stat parses /proc/PID/stat. comm may hold spaces and parentheses, so the
// fields after it are located from the last ')'.
func (p ProcFS) Stat(pid int) (Stat, error) {
	if p.host() {
		return hostStat(pid)
	}
	data, err := os.ReadFile(p.path(strconv.Itoa(pid), "stat"))
	if err != nil {
		return Stat{}, statError(pid, err)
	}
	return parseStat(pid, data)
}

func statError(pid int, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	return fmt.Errorf("read stat of pid %d: %w", pid, err)
}

// statFields is how many fields after comm parseStat reads (to rss).
const statFields = 22

func parseStat(pid int, data []byte) (Stat, error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return Stat{}, fmt.Errorf("parse stat of pid %d: no comm field", pid)
	}
	// fields[0] is field 3 (state); field N is fields[N-3].
	var fields [statFields][]byte
	n := 0
	for rest := data[closing+1:]; n < statFields; n++ {
		rest = bytes.TrimLeft(rest, " \n")
		if len(rest) == 0 {
			break
		}
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		fields[n], rest = rest[:end], rest[end:]
	}
	if n < statFields {
		return Stat{}, fmt.Errorf("parse stat of pid %d: %d fields after comm, want at least %d", pid, n, statFields)
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return Stat{}, fmt.Errorf("parse stat of pid %d: ppid: %w", pid, err)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return Stat{}, fmt.Errorf("parse stat of pid %d: starttime: %w", pid, err)
	}
	st := Stat{Comm: string(data[open+1 : closing]), PPID: ppid, StartTime: start, State: fields[0][0]}
	var v [4]uint64
	for i, n := range [...]int{14, 15, 23, 24} { // utime, stime, vsize, rss
		if v[i], err = strconv.ParseUint(string(fields[n-3]), 10, 64); err != nil {
			return Stat{}, fmt.Errorf("parse stat of pid %d: field %d: %w", pid, n, err)
		}
	}
	if st.Threads, err = strconv.Atoi(string(fields[20-3])); err != nil {
		return Stat{}, fmt.Errorf("parse stat of pid %d: num_threads: %w", pid, err)
	}
	st.CPUTicks, st.VSize, st.RSSPages = v[0]+v[1], v[2], v[3]
	return st, nil
}

// StatFile reads a pid's stat again and again, as Stat does. On the real
// /proc it keeps the file open: one read at offset 0 where Stat opens,
// reads and closes it. Elsewhere (no /proc, a test's directory) each Read
// is a Stat.
type StatFile struct {
	procs ProcFS
	pid   int
	f     *os.File
	buf   [1024]byte // /proc/PID/stat is a few hundred bytes
}

// OpenStat returns pid's StatFile; it opens nothing until the first Read.
func (p ProcFS) OpenStat(pid int) *StatFile { return &StatFile{procs: p, pid: pid} }

// PID is the process the file reads.
func (s *StatFile) PID() int { return s.pid }

// Read reads and parses the stat file. It is not safe for concurrent use.
func (s *StatFile) Read() (Stat, error) {
	if s.procs.Root != defaultProcRoot || s.procs.host() {
		return s.procs.Stat(s.pid)
	}
	for reopened := false; ; reopened = true {
		if s.f == nil {
			f, err := os.Open(s.procs.path(strconv.Itoa(s.pid), "stat"))
			if err != nil {
				return Stat{}, statError(s.pid, err)
			}
			s.f, reopened = f, true
		}
		n, err := s.f.ReadAt(s.buf[:], 0)
		switch {
		case err != nil && err != io.EOF:
			// The file stays with the process it was opened for: once
			// that has gone, the pid may name another.
			s.Close()
			if !reopened {
				continue
			}
			return Stat{}, statError(s.pid, err)
		case n == len(s.buf): // longer than any stat seen: read it whole
			return s.procs.Stat(s.pid)
		}
		return parseStat(s.pid, s.buf[:n])
	}
}

// Close closes the file; a later Read opens it again.
func (s *StatFile) Close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// StartTime returns the start time of pid, or ErrNoProcess. A zombie has
// exited already and counts as gone.
func (p ProcFS) StartTime(pid int) (uint64, error) {
	st, err := p.Stat(pid)
	if err != nil {
		return 0, err
	}
	if st.State == 'Z' || st.State == 'X' {
		return 0, fmt.Errorf("pid %d is a zombie: %w", pid, ErrNoProcess)
	}
	return st.StartTime, nil
}

// Identify returns the (pid, start time) identity of a live process.
func (p ProcFS) Identify(pid int) (Process, error) {
	start, err := p.StartTime(pid)
	if err != nil {
		return Process{}, err
	}
	return Process{PID: pid, StartTime: start}, nil
}

// Cmdline returns the argv of pid. A process that rewrote its title into
// argv[0] (as the gateway does) may pad it with spaces; they are trimmed.
func (p ProcFS) Cmdline(pid int) ([]string, error) {
	if p.host() {
		return hostCmdline(pid)
	}
	data, err := os.ReadFile(p.path(strconv.Itoa(pid), "cmdline"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return nil, fmt.Errorf("read cmdline of pid %d: %w", pid, err)
	}
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil, nil
	}
	args := strings.Split(string(data), "\x00")
	for i := range args {
		args[i] = strings.TrimRight(args[i], " ")
	}
	return args, nil
}

// StateDir returns the state directory a process was started for, from its
// environment: OPENCLAW_STATE_DIR, else $HOME/.openclaw, the gateway's own
// default. Reading another user's environment needs privileges; the error
// then wraps fs.ErrPermission.
func (p ProcFS) StateDir(pid int) (string, error) {
	if p.host() {
		return hostStateDir(pid)
	}
	data, err := os.ReadFile(p.path(strconv.Itoa(pid), "environ"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return "", fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return "", fmt.Errorf("read environment of pid %d: %w", pid, err)
	}
	var home string
	for kv := range strings.SplitSeq(string(data), "\x00") {
		if v, ok := strings.CutPrefix(kv, "OPENCLAW_STATE_DIR="); ok && v != "" {
			return filepath.Clean(v), nil
		}
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	if home == "" {
		return "", fmt.Errorf("pid %d: neither OPENCLAW_STATE_DIR nor HOME in its environment", pid)
	}
	return filepath.Join(home, ".openclaw"), nil
}

// PIDs lists the numeric entries of the proc root.
func (p ProcFS) PIDs() ([]int, error) {
	if p.host() {
		return hostPIDs()
	}
	entries, err := os.ReadDir(p.Root)
	if err != nil {
		return nil, fmt.Errorf("list processes in %s: %w", p.Root, err)
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// Children returns the direct children of pid, from the kernel's per-task
// children lists where available, else by scanning every process's parent.
func (p ProcFS) Children(pid int) ([]int, error) {
	if p.host() {
		return hostChildren(pid)
	}
	tasks, err := os.ReadDir(p.path(strconv.Itoa(pid), "task"))
	if err == nil {
		var kids []int
		found := false
		for _, t := range tasks {
			data, err := os.ReadFile(p.path(strconv.Itoa(pid), "task", t.Name(), "children"))
			if err != nil {
				continue
			}
			found = true
			for _, f := range strings.Fields(string(data)) {
				if k, err := strconv.Atoi(f); err == nil {
					kids = append(kids, k)
				}
			}
		}
		if found {
			return kids, nil
		}
	}
	pids, err := p.PIDs()
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, k := range pids {
		if st, err := p.Stat(k); err == nil && st.PPID == pid {
			kids = append(kids, k)
		}
	}
	return kids, nil
}

// OpenFDs counts the open descriptors of pid. Since Linux 6.2 the size of
// /proc/PID/fd is that count, one stat instead of listing 10,000 entries;
// older kernels report 0 there and the directory is listed.
func (p ProcFS) OpenFDs(pid int) (int, error) {
	if p.host() {
		return hostOpenFDs(pid)
	}
	dir := p.path(strconv.Itoa(pid), "fd")
	if fi, err := os.Stat(dir); err == nil && fi.Size() > 0 && p.Root == DefaultProcFS.Root {
		return int(fi.Size()), nil
	}
	names, err := readDirNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	if err != nil {
		return 0, fmt.Errorf("count fds of pid %d: %w", pid, err)
	}
	return len(names), nil
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// UID returns the real user id of pid, from the Uid line of
// /proc/PID/status (readable by every user unless /proc has hidepid). The
// gateway names its lock and log fallback directories by it.
func (p ProcFS) UID(pid int) (int, error) {
	if p.host() {
		return hostUID(pid)
	}
	data, err := os.ReadFile(p.path(strconv.Itoa(pid), "status"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return 0, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			fields := strings.Fields(v)
			if len(fields) == 0 {
				break
			}
			uid, err := strconv.Atoi(fields[0])
			if err != nil {
				return 0, fmt.Errorf("parse Uid of pid %d: %w", pid, err)
			}
			return uid, nil
		}
	}
	return 0, fmt.Errorf("pid %d: no Uid line in status", pid)
}

// RSSBytes reads VmRSS from /proc/PID/status.
func (p ProcFS) RSSBytes(pid int) (uint64, error) {
	if p.host() {
		return hostRSS(pid)
	}
	f, err := os.Open(p.path(strconv.Itoa(pid), "status"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS of pid %d: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	return 0, fmt.Errorf("pid %d: no VmRSS in status (kernel thread or zombie)", pid)
}
