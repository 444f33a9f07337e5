package target

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// serverRetry bounds how often a server that was not found is looked for
// again: finding a listener by port may walk every process's descriptors.
const serverRetry = 30 * time.Second

// Server is the process of a local server a gateway depends on, such as its
// model server, found from a pid file or else by the loopback port it
// listens on, and confirmed by its start time like the gateway's.
type Server struct {
	Port    int    // 0: not found by port
	PIDFile string // "": no pid file
	Procs   openclaw.ProcFS

	mu     sync.Mutex
	proc   openclaw.Process
	failed time.Time // of the last search that found nothing
	now    func() time.Time
}

// NewServer returns a server found by pidFile or, without one, by port.
func NewServer(port int, pidFile string) *Server {
	return &Server{Port: port, PIDFile: pidFile, Procs: openclaw.DefaultProcFS, now: time.Now}
}

// Process returns the server's process.
func (s *Server) Process() (openclaw.Process, error) {
	if s.PIDFile != "" {
		data, err := readPIDFile(s.PIDFile)
		if err != nil {
			return openclaw.Process{}, fmt.Errorf("pid file: %w", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			return openclaw.Process{}, fmt.Errorf("pid file %s: %q is not a pid", s.PIDFile, strings.TrimSpace(string(data)))
		}
		return s.Procs.Identify(pid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc.PID > 0 {
		if start, err := s.Procs.StartTime(s.proc.PID); err == nil && start == s.proc.StartTime {
			return s.proc, nil
		}
	}
	if s.Port == 0 {
		return openclaw.Process{}, fmt.Errorf("no pid file and not on a loopback port: %w", openclaw.ErrNotFound)
	}
	now := s.now()
	if !s.failed.IsZero() && now.Sub(s.failed) < serverRetry {
		return openclaw.Process{}, fmt.Errorf("port %d: not found at the last look: %w", s.Port, openclaw.ErrNotFound)
	}
	pid, err := s.Procs.ListenerPID(s.Port, s.proc.PID)
	if err != nil {
		s.proc, s.failed = openclaw.Process{}, now
		return openclaw.Process{}, err
	}
	s.failed = time.Time{}
	p, err := s.Procs.Identify(pid)
	if err != nil {
		return openclaw.Process{}, err
	}
	s.proc = p
	return p, nil
}

// maxServerPIDs bounds the descendants reported for one server.
const maxServerPIDs = 64

// PIDs returns the server's pid followed by its descendants': some servers
// hold the GPU in child processes (Ollama's model runners).
func (s *Server) PIDs() ([]int, error) {
	p, err := s.Process()
	if err != nil {
		return nil, err
	}
	pids := []int{p.PID}
	for i := 0; i < len(pids) && len(pids) < maxServerPIDs; i++ {
		kids, err := s.Procs.Children(pids[i])
		if err != nil {
			continue // exited meanwhile
		}
		pids = append(pids, kids[:min(len(kids), maxServerPIDs-len(pids))]...)
	}
	return pids, nil
}

// readPIDFile reads a pid file, which may sit in a directory others can
// write: never through a symlink, never a FIFO (a scrape would hang), and a
// line at most.
func readPIDFile(path string) ([]byte, error) {
	f, _, err := openclaw.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}
