//go:build linux

package openclaw

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
)

// TestHostPathAgreesWithProc holds the path macOS and Windows take
// (gopsutil, ProcFS with an empty Root) to /proc's answers about this
// process, on Linux, where both exist.
func TestHostPathAgreesWithProc(t *testing.T) {
	host, proc := ProcFS{}, ProcFS{Root: "/proc"}
	pid := os.Getpid()

	hs, err := host.Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := proc.Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Comm != ps.Comm || hs.PPID != ps.PPID || hs.State == 'Z' || hs.StartTime == 0 {
		t.Errorf("host Stat %+v, /proc %+v: want the same comm and parent", hs, ps)
	}
	// The lock's start time is the gateway's unit on Linux: /proc's ticks.
	if ls, err := host.LockStartTime(pid); err != nil || ls != ps.StartTime {
		t.Errorf("LockStartTime = %d, %v; want /proc's %d", ls, err, ps.StartTime)
	}
	if !host.sameLockStart(pid, ps.StartTime, hs.StartTime) || host.sameLockStart(pid, ps.StartTime+1, hs.StartTime) {
		t.Errorf("sameLockStart does not tell the lock's start time %d from another", ps.StartTime)
	}
	if ha, err := host.Cmdline(pid); err != nil || !slices.Equal(ha, mustCmdline(t, proc, pid)) {
		t.Errorf("host Cmdline = %q, %v", ha, err)
	}
	if uid, err := host.UID(pid); err != nil || uid != os.Getuid() {
		t.Errorf("host UID = %d, %v; want %d", uid, err, os.Getuid())
	}
	if rss, err := host.RSSBytes(pid); err != nil || rss < 1<<20 {
		t.Errorf("host RSSBytes = %d, %v", rss, err)
	}
	if n, err := host.OpenFDs(pid); err != nil || n < 3 {
		t.Errorf("host OpenFDs = %d, %v", n, err)
	}
	if u, err := HostUsage(pid); err != nil || u.Threads < 1 || u.ResidentBytes == 0 || u.StartSeconds <= 0 {
		t.Errorf("HostUsage = %+v, %v", u, err)
	}

	// A listener: found by its port, counted by state.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if got, err := host.ListenerPID(port); err != nil || got != pid {
		t.Errorf("host ListenerPID(%d) = %d, %v; want %d", port, got, err, pid)
	}
	if states, err := host.TCPStates(pid, port); err != nil || states["listen"] != 1 {
		t.Errorf("host TCPStates = %v, %v; want one listen", states, err)
	}
	ln.Close()
	if _, err := host.ListenerPID(port); !errors.Is(err, ErrNotFound) {
		t.Errorf("host ListenerPID of a closed port: %v, want ErrNotFound", err)
	}

	// A child: among the children, then gone.
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kids, err := host.Children(pid)
	if err != nil || !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("host Children = %v, %v; want %d among them", kids, err, cmd.Process.Pid)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := host.Stat(cmd.Process.Pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("host Stat of the reaped pid %d: %v, want ErrNoProcess", cmd.Process.Pid, err)
	}
	if _, err := host.Identify(-1); !errors.Is(err, ErrNoProcess) {
		t.Errorf("host Identify(-1): %v, want ErrNoProcess", err)
	}
}

func mustCmdline(t *testing.T, p ProcFS, pid int) []string {
	t.Helper()
	argv, err := p.Cmdline(pid)
	if err != nil {
		t.Fatalf("cmdline of %s: %v", strconv.Itoa(pid), err)
	}
	return argv
}

// TestHostStateNames: every platform's spelling of a TCP state is named as
// /proc names it, so one set of series exists everywhere.
func TestHostStateNames(t *testing.T) {
	known := knownStates()
	for status, want := range map[string]string{
		"ESTABLISHED": "established", "LISTEN": "listen", "TIME_WAIT": "time_wait", "CLOSE_WAIT": "close_wait",
		"FIN_WAIT1": "fin_wait1", "FIN_WAIT_1": "fin_wait1", "FIN_WAIT2": "fin_wait2", "FIN_WAIT_2": "fin_wait2",
		"SYN_RECV": "syn_recv", "SYN_RECEIVED": "syn_recv", "SYN_RCVD": "syn_recv", "SYN_SENT": "syn_sent",
		"CLOSE": "close", "CLOSED": "close", "LAST_ACK": "last_ack", "CLOSING": "closing",
		"DELETE": "unknown", "": "unknown",
	} {
		if got := hostStateName(status, known); got != want {
			t.Errorf("hostStateName(%q) = %q, want %q", status, got, want)
		}
	}
}
