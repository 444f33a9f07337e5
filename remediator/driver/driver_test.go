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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// serveUnix serves h on a unix socket in a temporary directory.
func serveUnix(t *testing.T, h http.Handler) (socket string) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return socket
}

// inspectBody is the part of the engine's GET /containers/{id}/json the
// driver reads, shaped as the engine writes it.
func inspectBody(running bool) string {
	if running {
		return `{"Id":"4fa6e0f0c678","Name":"/openclaw-gateway","State":{"Status":"running","Running":true,"Paused":false,"Restarting":false,"Pid":4242,"ExitCode":0,"Error":"","StartedAt":"2026-12-06T10:00:00.000000000Z"}}`
	}
	return `{"Id":"4fa6e0f0c678","Name":"/openclaw-gateway","State":{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"Pid":0,"ExitCode":137,"Error":"","FinishedAt":"2026-12-06T10:00:01.000000000Z"}}`
}

// fakeEngine serves the Docker Engine endpoints the driver uses (stop,
// start, inspect) on a unix socket, as the real engine does.
func fakeEngine(t *testing.T) (socket string, calls *[]string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	running := true
	socket = serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Method+" "+r.URL.RequestURI())
		switch {
		case !strings.HasPrefix(r.URL.Path, "/containers/openclaw-gateway/"):
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"No such container: x"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/containers/openclaw-gateway/json":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, inspectBody(running))
		case r.Method != http.MethodPost:
			w.WriteHeader(http.StatusMethodNotAllowed)
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
	if out, err := d.Start(ctx); err != nil || !strings.Contains(out, "already running") {
		t.Fatalf("second start: %q %v", out, err)
	}
	const inspect = "GET /containers/openclaw-gateway/json"
	want := []string{
		"POST /containers/openclaw-gateway/stop?t=30", inspect,
		"POST /containers/openclaw-gateway/stop?t=1", inspect,
		"POST /containers/openclaw-gateway/start", inspect,
		"POST /containers/openclaw-gateway/start", inspect,
	}
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

// TestDockerBelievesOnlyTheEngineAPI: whatever answers on the socket, a stop
// or start is done only when the answer is one the Engine API documents
// (204, 304) and an inspect then shows the container in that state. Anything
// else fails with what came back: the status and the engine's message, or a
// bounded excerpt of the body.
func TestDockerBelievesOnlyTheEngineAPI(t *testing.T) {
	type answer struct {
		code int
		body string
	}
	ok := func(running bool) answer { return answer{http.StatusOK, inspectBody(running)} }
	huge := strings.Repeat("<p>garbage</p>", 10_000)
	for _, c := range []struct {
		name    string
		verb    string // stop or start
		post    answer
		inspect answer
		out     string   // "": an error
		errHas  []string // in the error
	}{
		{name: "stop 204", verb: "stop", post: answer{204, ""}, inspect: ok(false), out: "container c stopped"},
		{name: "stop 304", verb: "stop", post: answer{304, ""}, inspect: ok(false), out: "container c was not running"},
		{name: "start 204", verb: "start", post: answer{204, ""}, inspect: ok(true), out: "container c started"},
		{name: "start 304", verb: "start", post: answer{304, ""}, inspect: ok(true), out: "container c was already running"},

		{name: "stop 200 with a page", verb: "stop", post: answer{200, "<html>it works</html>"}, inspect: ok(false),
			errHas: []string{"docker stop c: unexpected 200 OK", `"<html>it works</html>"`}},
		{name: "start 200 with a page", verb: "start", post: answer{200, "<html>it works</html>"}, inspect: ok(true),
			errHas: []string{"docker start c: unexpected 200 OK", `"<html>it works</html>"`}},
		{name: "start 200 with an empty body", verb: "start", post: answer{200, ""}, inspect: ok(true),
			errHas: []string{"docker start c: unexpected 200 OK", "empty body"}},
		{name: "stop 500", verb: "stop", post: answer{500, `{"message":"cannot stop container: c: permission denied"}`}, inspect: ok(true),
			errHas: []string{"docker stop c: 500 cannot stop container: c: permission denied"}},
		{name: "start 500", verb: "start", post: answer{500, `{"message":"failed to create task: exec: \"/no/such\": not found"}`}, inspect: ok(false),
			errHas: []string{"docker start c: 500 failed to create task", "/no/such"}},
		{name: "stop 404", verb: "stop", post: answer{404, `{"message":"No such container: c"}`}, inspect: ok(false),
			errHas: []string{"docker stop c: 404 No such container: c"}},
		{name: "start 404", verb: "start", post: answer{404, `{"message":"No such container: c"}`}, inspect: ok(false),
			errHas: []string{"docker start c: 404 No such container: c"}},
		{name: "start 500 with a huge page", verb: "start", post: answer{500, huge}, inspect: ok(true),
			errHas: []string{"docker start c: unexpected 500 Internal Server Error", "(140000 bytes)"}},

		{name: "stop 204, inspect 200 with a page", verb: "stop", post: answer{204, ""}, inspect: answer{200, "<html>it works</html>"},
			errHas: []string{"docker inspect c: 200 with a body that is not a container", `"<html>it works</html>"`}},
		{name: "start 204, inspect 200 with other JSON", verb: "start", post: answer{204, ""}, inspect: answer{200, `{"ok":true}`},
			errHas: []string{"docker inspect c: 200 with a body that is not a container", `{\"ok\":true}`}},
		{name: "start 204, inspect 404", verb: "start", post: answer{204, ""}, inspect: answer{404, `{"message":"No such container: c"}`},
			errHas: []string{"docker inspect c: 404 No such container: c"}},
		{name: "stop 204, still running", verb: "stop", post: answer{204, ""}, inspect: ok(true),
			errHas: []string{"docker stop c: the engine answered 204, but the container is running (pid 4242)"}},
		{name: "stop 304, running", verb: "stop", post: answer{304, ""}, inspect: ok(true),
			errHas: []string{"docker stop c: the engine answered 304, but the container is running"}},
		{name: "start 204, exited", verb: "start", post: answer{204, ""}, inspect: ok(false),
			errHas: []string{"docker start c: the engine answered 204, but the container is exited (exit code 137)"}},
		{name: "start 204, exited with an error", verb: "start", post: answer{204, ""},
			inspect: answer{200, `{"Id":"4fa6","State":{"Status":"exited","Running":false,"ExitCode":127,"Error":"exec: \"gateway\": not found"}}`},
			errHas:  []string{"container is exited (exit code 127): exec: \"gateway\": not found"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			socket := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				a := c.inspect
				switch r.Method + " " + r.URL.Path {
				case "POST /containers/c/" + c.verb:
					a = c.post
				case "GET /containers/c/json":
				default:
					a = answer{http.StatusNotFound, `{"message":"page not found"}`}
				}
				w.WriteHeader(a.code)
				io.WriteString(w, a.body)
			}))
			d := NewDocker(socket, "c")
			var out string
			var err error
			if c.verb == "stop" {
				out, err = d.Stop(context.Background(), time.Second)
			} else {
				out, err = d.Start(context.Background())
			}
			if c.out != "" {
				if err != nil || out != c.out {
					t.Fatalf("%s: %q, %v; want %q", c.verb, out, err, c.out)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s: %q and no error", c.verb, out)
			}
			for _, want := range c.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %q does not contain %q", c.verb, err, want)
				}
			}
			if len(err.Error()) > 1024 {
				t.Errorf("%s: a %d-byte error: the answer must be quoted bounded", c.verb, len(err.Error()))
			}
		})
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

// gatewayTitled returns a path that runs sleep under the name the gateway
// retitles itself to: the kernel names a process (its comm) after the file
// it executes, so this sleep's comm is "openclaw-gatewa", the title of a
// real gateway.
func gatewayTitled(t *testing.T) string {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "openclaw-gateway")
	if err := os.Symlink(sleep, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// startListener runs a shell script in its own process group, holding a
// listening loopback socket as fd 3, like a gateway on its port.
func startListener(t *testing.T, script string) (*exec.Cmd, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	f, _ := ln.(*net.TCPListener).File()
	ln.Close()
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

// startBystander starts a process that is not the gateway, leading its own
// process group (as a gateway does), and returns its identity and a
// function that reports whether it is still running (not a zombie).
func startBystander(t *testing.T) (openclaw.Process, func() bool) {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done })
	proc, err := openclaw.DefaultProcFS.Identify(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return proc, func() bool {
		_, err := openclaw.DefaultProcFS.Identify(proc.PID)
		return err == nil
	}
}

// freePort returns a loopback port that nothing listens on: the gateway is
// down, and only a lock can name a process.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// plantLock writes lock into dir (created with dirMode, owned by dirOwner)
// as a file owned by owner.
func plantLock(t *testing.T, dir string, dirMode os.FileMode, dirOwner, owner int, lock openclaw.Lock) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gateway.planted1.lock")
	if err := os.WriteFile(path, lock.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{os.Chown(path, owner, -1), os.Chown(dir, dirOwner, -1), os.Chmod(dir, dirMode)} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test plants a lock owned by another uid")
	}
}

func TestProcessStop(t *testing.T) {
	gw := gatewayTitled(t)
	for _, ignore := range []bool{false, true} {
		script := "exec " + gw + " 300"
		if ignore {
			script = "trap '' TERM; " + script // ignored signals stay ignored across exec
		}
		cmd, port := startListener(t, script)
		p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{t.TempDir()}, KillWait: 10 * time.Second}
		proc, err := p.Find()
		if err != nil || proc.PID != cmd.Process.Pid {
			t.Fatalf("find: %+v %v; want pid %d", proc, err, cmd.Process.Pid)
		}
		out, err := p.Stop(context.Background(), 300*time.Millisecond)
		if err != nil {
			t.Fatalf("ignore TERM %v: %v", ignore, err)
		}
		if ignore != strings.Contains(out, "killed") || !strings.Contains(out, "gateway by title") {
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

// TestProcessStopSignalsOnlyItsOwnGroup: a gateway in a process group that
// another process leads is signalled alone; the group is not its to end.
func TestProcessStopSignalsOnlyItsOwnGroup(t *testing.T) {
	// The shell leads the group, closes its copy of the socket (so that the
	// gateway alone listens) and outlives the gateway.
	cmd, port := startListener(t, gatewayTitled(t)+" 300 & exec 3>&-; wait; exec sleep 300")
	p := &Process{Procs: openclaw.DefaultProcFS, Port: port}
	var proc openclaw.Process
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if proc, err = p.Find(); err == nil && proc.PID != cmd.Process.Pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway child never held the port alone: %+v %v", proc, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := p.Stop(context.Background(), 10*time.Second); err != nil || !strings.Contains(out, "stopped by SIGTERM") {
		t.Fatalf("stop: %q %v", out, err)
	}
	if _, err := openclaw.DefaultProcFS.Identify(cmd.Process.Pid); err != nil {
		t.Errorf("the group's leader, not the gateway, was signalled: %v", err)
	}
}

// TestProcessStopRefusesUnproven: a listener that is not titled like a
// gateway and was not started by the driver is never signalled, even when
// a trusted lock names it with its start time: a lock's word is not proof.
func TestProcessStopRefusesUnproven(t *testing.T) {
	cmd, port := startListener(t, "exec sleep 300")
	locks := t.TempDir()
	p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{locks}}
	proc, err := p.Find()
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	lock := openclaw.Lock{PID: proc.PID, StartTime: lockStart(t, proc.PID), Port: port}.Marshal()
	if err := os.WriteFile(filepath.Join(locks, "gateway.test0001.lock"), lock, 0o600); err != nil {
		t.Fatal(err)
	}
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

// TestProcessStopIgnoresPlantedLocks is issue 26's attack: with the gateway
// down, a lock in its lock directory names a process that is not the
// gateway, with its real start time; that process leads its own group.
// The remediator signalled it and its group and reported success ("gateway
// by lock"). A lock that another user may have written is not even looked
// at; a trusted one only says where to look.
func TestProcessStopIgnoresPlantedLocks(t *testing.T) {
	needRoot(t)
	me := os.Getuid()
	for _, c := range []struct {
		name      string
		dirMode   os.FileMode
		fileOwner int
		why       string // in Stop's output: why the lock was ignored
		refused   bool   // trusted: found, and Stop refuses with an error
	}{
		{"another user's lock in a sticky world-writable directory", 0o777 | os.ModeSticky, 65534, "owned by uid 65534", false},
		{"the gateway user's directory, world-writable without the sticky bit", 0o777, me, "writable by other users (mode 0777) and not sticky", false},
		{"a trusted lock naming another program", 0o700, me, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			victim, alive := startBystander(t)
			port := freePort(t)
			dir := filepath.Join(t.TempDir(), "openclaw-"+strconv.Itoa(me))
			plantLock(t, dir, c.dirMode, me, c.fileOwner, openclaw.Lock{PID: victim.PID, StartTime: lockStart(t, victim.PID), Port: port})
			p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{dir}, KillWait: time.Second}
			out, err := p.Stop(context.Background(), time.Second)
			if !alive() {
				t.Fatalf("pid %d, not the gateway, was signalled on a lock's word: %q %v", victim.PID, out, err)
			}
			if c.refused {
				if !errors.Is(err, openclaw.ErrNotGateway) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", victim.PID)) {
					t.Fatalf("Stop = %q, %v; want a refusal naming pid %d", out, err, victim.PID)
				}
				return
			}
			if err != nil || !strings.HasPrefix(out, "no gateway process running") || !strings.Contains(out, c.why) || !strings.Contains(out, dir) {
				t.Fatalf("Stop = %q, %v; want no gateway, the lock in %s ignored because %s", out, err, dir, c.why)
			}
		})
	}
}

// TestProcessStopRefusesPID1: a lock naming pid 1, trusted or not, never
// makes the driver signal it: kill(-1) would be every process. The signals
// go to a recorder, so that a failure cannot reach them.
func TestProcessStopRefusesPID1(t *testing.T) {
	needRoot(t)
	init, err := openclaw.DefaultProcFS.Identify(1)
	if err != nil {
		t.Fatal(err)
	}
	me := os.Getuid()
	for _, trusted := range []bool{true, false} {
		port := freePort(t)
		dir := filepath.Join(t.TempDir(), "openclaw-"+strconv.Itoa(me))
		owner := me
		if !trusted {
			owner = 65534
		}
		plantLock(t, dir, 0o777|os.ModeSticky, me, owner, openclaw.Lock{PID: 1, StartTime: lockStart(t, 1), Port: port})
		var sent []int
		p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{dir},
			kill: func(pid int, _ syscall.Signal) error { sent = append(sent, pid); return nil }}
		out, err := p.Stop(context.Background(), time.Second)
		if len(sent) > 0 {
			t.Fatalf("trusted %v: signalled %v: %q %v", trusted, sent, out, err)
		}
		if trusted && (err == nil || !strings.Contains(err.Error(), "pid 1 ")) {
			t.Errorf("trusted lock: Stop = %q, %v; want a refusal naming pid 1", out, err)
		}
		if !trusted && (err != nil || !strings.Contains(out, "owned by uid 65534")) {
			t.Errorf("planted lock: Stop = %q, %v; want it ignored", out, err)
		}
	}
	p := &Process{Procs: openclaw.DefaultProcFS, kill: func(pid int, _ syscall.Signal) error { t.Errorf("signalled %d", pid); return nil }}
	for _, pid := range []int{1, 0, -1} {
		if _, err := p.signal(openclaw.Process{PID: pid, StartTime: init.StartTime}, syscall.SIGTERM); err == nil {
			t.Errorf("signal pid %d: no error", pid)
		}
	}
}

// TestProcessStopsWhatItStarted: a gateway the driver started, whatever its
// title, found through the trusted lock it wrote (not listening yet), is
// stopped.
func TestProcessStopsWhatItStarted(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{dir}, Argv: []string{"/bin/sleep", "300"}}
	msg, err := p.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscanf(msg[strings.LastIndex(msg, "pid "):], "pid %d", &pid); err != nil {
		t.Fatalf("%q: %v", msg, err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if err := os.WriteFile(filepath.Join(dir, "gateway.started1.lock"), openclaw.Lock{PID: pid, StartTime: lockStart(t, pid), Port: port}.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := p.Stop(context.Background(), 10*time.Second)
	if err != nil || !strings.Contains(out, "gateway by started") || !strings.Contains(out, "stopped by SIGTERM") {
		t.Fatalf("Stop = %q, %v", out, err)
	}
	if _, err := openclaw.DefaultProcFS.Identify(pid); err == nil {
		t.Errorf("pid %d still running", pid)
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

// A bare command name is looked up in the PATH driver.env sets, where the
// gateway's CLI is, before the remediator's own.
func TestRunLooksUpInTheEnvPATH(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "clawwatch-test-cli")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho from the env PATH\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), []string{"clawwatch-test-cli"}, "", []string{"PATH=/nonexistent:" + dir})
	if err != nil || out != "from the env PATH" {
		t.Errorf("Run: %q %v", out, err)
	}
	if _, err := Run(context.Background(), []string{"clawwatch-test-cli"}, "", nil); err == nil {
		t.Error("found without the env PATH")
	}
}

// TestProcessOutputRefusesPlantedFiles: a symlink or a FIFO planted at the
// output path fails the start, the symlink's target untouched, and nothing
// is started.
func TestProcessOutputRefusesPlantedFiles(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "started")
	for _, out := range []string{link, fifo} {
		p := &Process{Procs: openclaw.DefaultProcFS, Argv: []string{"/usr/bin/touch", marker}, Output: out}
		if msg, err := p.Start(context.Background()); err == nil {
			t.Errorf("start with output %s: %q, want an error", out, msg)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep\n" {
		t.Errorf("the symlink's target was written: %q", data)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the gateway was started although its output file was refused")
	}
	// A regular file is appended to.
	ok := filepath.Join(dir, "gateway.log")
	p := &Process{Procs: openclaw.DefaultProcFS, Argv: []string{"/bin/echo", "hello"}, Output: ok}
	if _, err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for data, _ := os.ReadFile(ok); string(data) != "hello\n"; data, _ = os.ReadFile(ok) {
		if time.Now().After(deadline) {
			t.Fatalf("output file holds %q, want the child's hello", data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockStart is pid's start time as a gateway's lock records it.
func lockStart(t *testing.T, pid int) uint64 {
	t.Helper()
	start, err := openclaw.DefaultProcFS.LockStartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	return start
}
