package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// fakeEngine serves the two Docker Engine endpoints the driver uses on a
// unix socket, as the real engine does.
func fakeEngine(t *testing.T) (socket string, calls *[]string) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	running := true
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Method+" "+r.URL.RequestURI())
		switch {
		case r.Method != http.MethodPost:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case !strings.HasPrefix(r.URL.Path, "/containers/openclaw-gateway/"):
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"No such container: x"}`)
		case strings.HasSuffix(r.URL.Path, "/stop"):
			if !running {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			running = false
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/start"):
			if running {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			running = true
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return socket, &got
}

func TestDocker(t *testing.T) {
	socket, calls := fakeEngine(t)
	d := NewDocker(socket, "openclaw-gateway")
	ctx := context.Background()
	if out, err := d.Stop(ctx, 30*time.Second); err != nil || !strings.Contains(out, "stopped") {
		t.Fatalf("stop: %q %v", out, err)
	}
	if out, err := d.Stop(ctx, time.Second); err != nil || !strings.Contains(out, "not running") {
		t.Fatalf("second stop: %q %v", out, err)
	}
	if out, err := d.Start(ctx); err != nil || !strings.Contains(out, "started") {
		t.Fatalf("start: %q %v", out, err)
	}
	want := []string{"POST /containers/openclaw-gateway/stop?t=30", "POST /containers/openclaw-gateway/stop?t=1", "POST /containers/openclaw-gateway/start"}
	if strings.Join(*calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls\n%s\nwant\n%s", strings.Join(*calls, "\n"), strings.Join(want, "\n"))
	}
	_, err := NewDocker(socket, "other").Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "404 No such container") {
		t.Errorf("unknown container: %v", err)
	}
	if _, err := NewDocker(filepath.Join(t.TempDir(), "none.sock"), "x").Start(ctx); err == nil {
		t.Error("no engine: no error")
	}
}

func TestRunNeverUsesAShell(t *testing.T) {
	out, err := Run(context.Background(), []string{"/bin/echo", "a; touch /tmp/pwned", "$(id)"}, "", nil)
	if err != nil || out != "a; touch /tmp/pwned $(id)" {
		t.Fatalf("%q %v", out, err)
	}
	if _, err := Run(context.Background(), []string{"/bin/sh -c true"}, "", nil); err == nil {
		t.Fatal("a program name with spaces ran")
	}
}

func TestSystemdArgv(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "systemctl")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Systemd{Unit: "openclaw-gateway.service", User: true, Systemctl: fake}
	out, err := s.Stop(context.Background(), time.Second)
	if err != nil || out != "--user stop -- openclaw-gateway.service" {
		t.Fatalf("%q %v", out, err)
	}
	out, _ = (&Systemd{Unit: "u.service", Systemctl: fake}).Start(context.Background())
	if out != "start -- u.service" {
		t.Fatalf("%q", out)
	}
}

// startListener runs a child that listens on a loopback port, like a
// gateway, optionally ignoring SIGTERM.
func startListener(t *testing.T, ignoreTERM bool) (*exec.Cmd, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	f, _ := ln.(*net.TCPListener).File()
	ln.Close()
	script := "exec sleep 300"
	if ignoreTERM {
		script = "trap '' TERM; sleep 300 & wait; sleep 300"
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.ExtraFiles = []*os.File{f} // the child holds the listening socket
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done })
	return cmd, port
}

func TestProcessStop(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		cmd, port := startListener(t, ignore)
		locks := t.TempDir()
		p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{locks}, KillWait: 10 * time.Second}
		proc, err := p.Find()
		if err != nil {
			t.Fatalf("find: %v", err)
		}
		// A shell is not titled like a gateway: its lock says it is one.
		lock := openclaw.Lock{PID: proc.PID, StartTime: proc.StartTime, Port: port}.Marshal()
		if err := os.WriteFile(filepath.Join(locks, "gateway.test0001.lock"), lock, 0o600); err != nil {
			t.Fatal(err)
		}
		if proc.PID != cmd.Process.Pid {
			// the listener may be the shell or its child; both are in the group
			if pgid, _ := syscall.Getpgid(proc.PID); pgid != cmd.Process.Pid {
				t.Fatalf("found pid %d outside the group of %d", proc.PID, cmd.Process.Pid)
			}
		}
		out, err := p.Stop(context.Background(), 300*time.Millisecond)
		if err != nil {
			t.Fatalf("ignore TERM %v: %v", ignore, err)
		}
		if ignore != strings.Contains(out, "killed") || !strings.Contains(out, "gateway by lock") {
			t.Errorf("ignore TERM %v: %q", ignore, out)
		}
		if _, err := p.Find(); err == nil {
			t.Errorf("still running after stop")
		}
		if out, err := p.Stop(context.Background(), time.Second); err != nil || !strings.Contains(out, "no gateway") {
			t.Errorf("stop of nothing: %q %v", out, err)
		}
	}
}

// TestProcessStopRefusesUnproven: a listener that is not titled like a
// gateway, owns no lock with its start time (a lock naming its pid with
// another start time is a reused pid's) and was not started by the driver
// is never signalled.
func TestProcessStopRefusesUnproven(t *testing.T) {
	cmd, port := startListener(t, false)
	locks := t.TempDir()
	p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{locks}}
	proc, err := p.Find()
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	lock := openclaw.Lock{PID: proc.PID, StartTime: proc.StartTime + 1, Port: port}.Marshal()
	os.WriteFile(filepath.Join(locks, "gateway.test0001.lock"), lock, 0o600)
	out, err := p.Stop(context.Background(), time.Second)
	if !errors.Is(err, openclaw.ErrNotGateway) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", proc.PID)) {
		t.Fatalf("stop of a non-gateway: %q, %v", out, err)
	}
	if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
		t.Fatalf("the listener was signalled: %v", err)
	}
	if now, err := p.Find(); err != nil || now != proc {
		t.Fatalf("the listener changed: %+v %v", now, err)
	}
}

// TestProcessStartIsRemembered: what the driver started itself is the
// gateway, whatever its title, for any later driver of the same port.
func TestProcessStartIsRemembered(t *testing.T) {
	port := 1 // no listener: the test only asks for identity
	p := &Process{Procs: openclaw.DefaultProcFS, Port: port, Argv: []string{"/bin/sleep", "300"}}
	msg, err := p.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscanf(msg[strings.LastIndex(msg, "pid "):], "pid %d", &pid); err != nil {
		t.Fatalf("%q: %v", msg, err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	proc, err := openclaw.DefaultProcFS.Identify(pid)
	if err != nil {
		t.Fatal(err)
	}
	again := &Process{Procs: openclaw.DefaultProcFS, Port: port}
	if how, err := again.identity().Confirm(proc); err != nil || how != openclaw.EvidenceStarted {
		t.Errorf("the started process: %q, %v", how, err)
	}
	other := &Process{Procs: openclaw.DefaultProcFS, Port: port + 1}
	if _, err := other.identity().Confirm(proc); !errors.Is(err, openclaw.ErrNotGateway) {
		t.Errorf("started for another port, yet %v", err)
	}
}

func TestProcessStartDetaches(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	p := &Process{Argv: []string{"/bin/sh", "-c", "echo started $FOO; set -- $(cat /proc/$$/stat); echo $1 $6"}, Env: []string{"FOO=bar"}, Output: out}
	msg, err := p.Start(context.Background())
	if err != nil || !strings.Contains(msg, "pid") {
		t.Fatalf("%q %v", msg, err)
	}
	var data []byte
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		data, _ = os.ReadFile(out)
		if strings.Count(string(data), "\n") >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	f := strings.Fields(string(data))
	if len(f) < 4 || f[1] != "bar" {
		t.Fatalf("output %q", data)
	}
	if f[2] != f[3] {
		t.Errorf("child pid %s is not its session's leader (sid %s): not detached", f[2], f[3])
	}
}
