package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/configpath"
)

// DefaultDockerSocket is the Docker Engine API's socket on Linux.
const DefaultDockerSocket = "/var/run/docker.sock"

// DockerSpec is the docker kind's section: the engine's socket and the
// container.
type DockerSpec struct {
	Shared    `yaml:",inline"`
	Socket    string `yaml:"socket,omitempty"`
	Container string `yaml:"container,omitempty"`
}

// containerRe is what Docker accepts as a container name or id.
var containerRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Validate checks the container name and resolves the socket.
func (s *DockerSpec) Validate(dir, home string) error {
	// Left out it is the default; written as "" it would resolve to this
	// file's directory, never a socket.
	if s.Socket == "" {
		return errors.New("socket: empty; leave the key out for the default " + DefaultDockerSocket)
	}
	s.Socket = configpath.Resolve(s.Socket, dir, home)
	if !containerRe.MatchString(s.Container) {
		return fmt.Errorf("container: %q is not a container name or id", s.Container)
	}
	return nil
}

// New builds the driver.
func (s *DockerSpec) New(Target) (Driver, error) { return NewDocker(s.Socket, s.Container), nil }

// Docker stops and starts a container through the Docker Engine API on its
// unix socket, with net/http: the compose stack's gateway.
//
// Only the answers the Engine API documents are believed: 204 (done) or 304
// (nothing to do) for stop and start, and after either an inspect whose JSON
// shows the container in the state asked for. Anything else on the socket, a
// proxy answering 200 with a page, say, is an error quoting what came back,
// never a stop or a start recorded as done.
type Docker struct {
	Container string
	client    *http.Client
}

// NewDocker talks to the engine on socket.
func NewDocker(socket, container string) *Docker {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return &Docker{Container: container, client: &http.Client{Transport: tr}}
}

// Stop asks the engine to stop the container, which sends SIGTERM and after
// grace SIGKILL, and checks that it is no longer running. 304 means it was
// not running.
func (d *Docker) Stop(ctx context.Context, grace time.Duration) (string, error) {
	secs := int(grace.Round(time.Second) / time.Second)
	ctx, cancel := context.WithTimeout(ctx, grace+30*time.Second)
	defer cancel()
	code, err := d.post(ctx, "stop", url.Values{"t": {strconv.Itoa(secs)}})
	if err != nil {
		return "", err
	}
	st, err := d.inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("after stop: %w", err)
	}
	if st.Running {
		return "", fmt.Errorf("docker stop %s: the engine answered %d, but the container is %s (pid %d)", d.Container, code, st.Status, st.Pid)
	}
	if code == http.StatusNotModified {
		return "container " + d.Container + " was not running", nil
	}
	return "container " + d.Container + " stopped", nil
}

// Start starts the container and checks that it runs; 304 means it was
// already running.
func (d *Docker) Start(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	code, err := d.post(ctx, "start", nil)
	if err != nil {
		return "", err
	}
	st, err := d.inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("after start: %w", err)
	}
	if !st.Running {
		why := ""
		if st.Error != "" {
			why = ": " + bounded(st.Error)
		}
		return "", fmt.Errorf("docker start %s: the engine answered %d, but the container is %s (exit code %d)%s", d.Container, code, st.Status, st.ExitCode, why)
	}
	if code == http.StatusNotModified {
		return "container " + d.Container + " was already running", nil
	}
	return "container " + d.Container + " started", nil
}

// maxBody bounds what is read of an answer; an inspect is a few KiB.
const maxBody = 1 << 20

func (d *Docker) post(ctx context.Context, verb string, q url.Values) (int, error) {
	path := "/containers/" + url.PathEscape(d.Container) + "/" + verb
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	code, body, err := d.call(ctx, http.MethodPost, path)
	if err != nil {
		return 0, fmt.Errorf("docker %s %s: %w", verb, d.Container, err)
	}
	if code != http.StatusNoContent && code != http.StatusNotModified {
		return code, engineError("docker "+verb+" "+d.Container, code, body)
	}
	return code, nil
}

// containerState is the part of an inspect the driver believes.
type containerState struct {
	Status   string // created, running, paused, restarting, removing, exited, dead
	Running  bool
	Pid      int
	ExitCode int
	Error    string
}

// inspect returns the container's state, from a 200 whose body is a
// container: an Id and a State with a Status.
func (d *Docker) inspect(ctx context.Context) (containerState, error) {
	op := "docker inspect " + d.Container
	code, body, err := d.call(ctx, http.MethodGet, "/containers/"+url.PathEscape(d.Container)+"/json")
	if err != nil {
		return containerState{}, fmt.Errorf("%s: %w", op, err)
	}
	if code != http.StatusOK {
		return containerState{}, engineError(op, code, body)
	}
	var c struct {
		ID    string `json:"Id"`
		State *containerState
	}
	if err := json.Unmarshal(body, &c); err != nil || c.ID == "" || c.State == nil || c.State.Status == "" {
		return containerState{}, fmt.Errorf("%s: 200 with a body that is not a container (no Id and State.Status): %s", op, excerpt(body))
	}
	return *c.State, nil
}

// call sends one request and reads the answer, bounded.
func (d *Docker) call(ctx context.Context, method, path string) (int, []byte, error) {
	// The host part is ignored by the unix dialer; the path is unversioned,
	// which the engine serves at its current API version.
	req, err := http.NewRequestWithContext(ctx, method, "http://docker"+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read the engine's %d answer: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, body, nil
}

// engineError is an answer the call does not accept: the engine's own
// words, {"message": ...}, or an excerpt of whatever else came back.
func engineError(op string, code int, body []byte) error {
	var msg struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &msg) == nil && msg.Message != "" {
		return fmt.Errorf("%s: %d %s", op, code, bounded(msg.Message))
	}
	return fmt.Errorf("%s: unexpected %d %s, not an Engine API answer: %s", op, code, http.StatusText(code), excerpt(body))
}

// maxExcerpt bounds how much of an answer goes into an error, and from
// there into the journal and the console.
const maxExcerpt = 256

// excerpt quotes the head of a body.
func excerpt(body []byte) string {
	if len(body) == 0 {
		return "empty body"
	}
	if len(body) <= maxExcerpt {
		return "body " + strconv.Quote(string(body))
	}
	return fmt.Sprintf("body %s… (%d bytes)", strconv.Quote(string(body[:maxExcerpt])), len(body))
}

// bounded cuts a message from the engine to maxExcerpt bytes.
func bounded(s string) string {
	if len(s) <= maxExcerpt {
		return s
	}
	return strings.ToValidUTF8(s[:maxExcerpt], "") + "…"
}
