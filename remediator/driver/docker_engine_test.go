//go:build dockerengine

package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The docker driver against a real Docker Engine: the private one that
// deploy/localimages/stack-test.sh starts ($DOCKER_HOST), with a local image
// ($CLAWWATCH_DOCKER_TEST_IMAGE). TestDocker holds the same calls against a
// fake engine in every test run.

// engine is the test's own client of the Engine API, for what the driver
// does not do: create, inspect and remove containers.
type engine struct {
	t      *testing.T
	socket string
	client *http.Client
}

func realEngine(t *testing.T) *engine {
	t.Helper()
	socket, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if !ok || os.Getenv("CLAWWATCH_DOCKER_TEST_IMAGE") == "" {
		t.Fatal("DOCKER_HOST (unix://) and CLAWWATCH_DOCKER_TEST_IMAGE must name the private engine and a local image: run deploy/localimages/stack-test.sh")
	}
	return &engine{t: t, socket: socket, client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}}
}

func (e *engine) call(method, path string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, "http://docker"+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("engine %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("engine %s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// create makes a stopped container running argv, removed at the end of the test.
func (e *engine) create(argv ...string) string {
	e.t.Helper()
	name := fmt.Sprintf("clawwatch-driver-%s-%d", strings.ToLower(strings.ReplaceAll(e.t.Name(), "/", "-")), time.Now().UnixNano())
	body := map[string]any{"Image": os.Getenv("CLAWWATCH_DOCKER_TEST_IMAGE"), "Cmd": argv}
	if code := e.call(http.MethodPost, "/containers/create?name="+url.QueryEscape(name), body, nil); code != http.StatusCreated {
		e.t.Fatalf("engine: create %s: %d", name, code)
	}
	e.t.Cleanup(func() { e.call(http.MethodDelete, "/containers/"+name+"?force=true", nil, nil) })
	return name
}

type state struct {
	Running   bool
	StartedAt time.Time
	Pid       int
}

func (e *engine) state(name string) state {
	e.t.Helper()
	var c struct{ State state }
	if code := e.call(http.MethodGet, "/containers/"+name+"/json", nil, &c); code != http.StatusOK {
		e.t.Fatalf("engine: inspect %s: %d", name, code)
	}
	return c.State
}

func TestDockerEngineStopStart(t *testing.T) {
	e := realEngine(t)
	// sleep as PID 1 ignores SIGTERM: the stop ends with the engine's SIGKILL after the grace.
	name := e.create("sleep", "infinity")
	d := NewDocker(e.socket, name)
	ctx := context.Background()

	start := func() (string, error) { return d.Start(ctx) }
	stop := func() (string, error) { return d.Stop(ctx, time.Second) }
	steps := []struct {
		do      func() (string, error)
		out     string
		running bool
	}{
		{start, "container " + name + " started", true},
		{start, "container " + name + " was already running", true},
		{stop, "container " + name + " stopped", false},
		{stop, "container " + name + " was not running", false},
	}
	for i, s := range steps {
		out, err := s.do()
		if err != nil || out != s.out {
			t.Fatalf("step %d: %q %v, want %q", i, out, err, s.out)
		}
		if got := e.state(name).Running; got != s.running {
			t.Fatalf("step %d (%s): running %v, want %v", i, out, got, s.running)
		}
	}
	first := e.state(name).StartedAt
	if _, err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.state(name); !st.Running || !st.StartedAt.After(first) {
		t.Fatalf("restarted: %+v, want running and started after %s", st, first)
	}
}

func TestDockerEngineMissingContainer(t *testing.T) {
	e := realEngine(t)
	d := NewDocker(e.socket, "clawwatch-no-such-container")
	for verb, call := range map[string]func() (string, error){
		"stop":  func() (string, error) { return d.Stop(context.Background(), time.Second) },
		"start": func() (string, error) { return d.Start(context.Background()) },
	} {
		_, err := call()
		if err == nil || !strings.Contains(err.Error(), "docker "+verb+" clawwatch-no-such-container: 404") ||
			!strings.Contains(err.Error(), "No such container") {
			t.Errorf("%s: %v, want the engine's 404 and its message", verb, err)
		}
	}
}

func TestDockerEngineContainerWillNotStart(t *testing.T) {
	e := realEngine(t)
	name := e.create("/no/such/program")
	_, err := NewDocker(e.socket, name).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "docker start "+name) || !strings.Contains(err.Error(), "/no/such/program") {
		t.Fatalf("start: %v, want the engine's error naming the program", err)
	}
	if e.state(name).Running {
		t.Fatal("the container runs")
	}
}

func TestDockerEngineSocketGone(t *testing.T) {
	e := realEngine(t)
	name := e.create("sleep", "infinity")
	// The engine's socket path, moved away: what a restarted or removed
	// engine looks like to a remediator holding the old mount.
	gone := filepath.Join(t.TempDir(), "docker.sock")
	_, err := NewDocker(gone, name).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "docker start "+name) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("start: %v, want a connection error naming the container", err)
	}
	if e.state(name).Running {
		t.Fatal("the container was started through a socket that is gone")
	}
}
