package openclaw

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotGateway means a process was found, on the gateway's port typically,
// that nothing shows to be the gateway: anything may listen on a port.
var ErrNotGateway = errors.New("not the gateway")

// Evidence says how a process was shown to be the gateway.
//
// A lock file naming a process is not evidence: it says which process to
// look at (Discoverer), never that it may be signalled, because whoever can
// write a lock can name any process. What proves a process to be the
// gateway is the process itself or the caller's own memory of starting it.
type Evidence string

const (
	EvidenceTitle   Evidence = "title"   // its comm or argv are a running gateway's (IsGatewayTitle)
	EvidenceStarted Evidence = "started" // the caller started it (or an ancestor of it) as the gateway
)

// maxAncestors bounds the walk up the parents for EvidenceStarted.
const maxAncestors = 8

// Identity decides whether a process is the gateway, before anyone signals
// it or reports it as one: the exporter's is_gateway and the remediator's
// consent to signal are the same decision.
type Identity struct {
	Procs ProcFS
	// Started are the processes the caller started as this gateway.
	Started []Process
}

// Confirm returns how proc is known to be the gateway. Otherwise the error
// wraps ErrNotGateway and says what the process is, or wraps ErrNoProcess
// when it has exited or its pid now names another process.
func (id Identity) Confirm(proc Process) (Evidence, error) {
	st, err := id.Procs.Stat(proc.PID)
	if err != nil {
		return "", err
	}
	if st.StartTime != proc.StartTime || st.State == 'Z' || st.State == 'X' {
		return "", fmt.Errorf("pid %d exited: %w", proc.PID, ErrNoProcess)
	}
	argv, _ := id.Procs.Cmdline(proc.PID)
	if IsGatewayTitle(st.Comm, argv) {
		return EvidenceTitle, nil
	}
	if id.startedBy(proc, st.PPID) {
		return EvidenceStarted, nil
	}
	return "", fmt.Errorf("%s %w: not titled like a gateway and not started as the gateway (a lock naming it proves nothing)",
		Describe(proc.PID, st.Comm, argv), ErrNotGateway)
}

// startedBy reports whether proc or one of its ancestors is a process the
// caller started: a gateway run through a wrapper is the wrapper's child.
func (id Identity) startedBy(proc Process, ppid int) bool {
	cur := proc
	for range maxAncestors {
		for _, s := range id.Started {
			if s == cur {
				return true
			}
		}
		if ppid <= 1 {
			return false
		}
		st, err := id.Procs.Stat(ppid)
		if err != nil {
			return false
		}
		cur, ppid = Process{PID: ppid, StartTime: st.StartTime}, st.PPID
	}
	return false
}

// Describe names a process for a message: pid, comm and argv, bounded.
func Describe(pid int, comm string, argv []string) string {
	cmd := strings.Join(argv, " ")
	if len(cmd) > 120 {
		cmd = cmd[:120] + "…"
	}
	return "pid " + strconv.Itoa(pid) + " (" + strconv.Quote(comm) + ": " + strconv.Quote(cmd) + ")"
}
