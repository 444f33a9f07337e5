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
