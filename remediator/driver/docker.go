package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Docker stops and starts a container through the Docker Engine API on its
// unix socket, with net/http: the compose stack's gateway.
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
// grace SIGKILL. 304 means it was not running.
func (d *Docker) Stop(ctx context.Context, grace time.Duration) (string, error) {
	secs := int(grace.Round(time.Second) / time.Second)
	ctx, cancel := context.WithTimeout(ctx, grace+30*time.Second)
	defer cancel()
	code, err := d.post(ctx, "stop", url.Values{"t": {strconv.Itoa(secs)}})
	if err != nil {
		return "", err
	}
	if code == http.StatusNotModified {
		return "container " + d.Container + " was not running", nil
	}
	return "container " + d.Container + " stopped", nil
}

// Start starts the container; 304 means it was already running.
func (d *Docker) Start(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	code, err := d.post(ctx, "start", nil)
	if err != nil {
		return "", err
	}
	if code == http.StatusNotModified {
		return "container " + d.Container + " was already running", nil
	}
	return "container " + d.Container + " started", nil
}

func (d *Docker) post(ctx context.Context, verb string, q url.Values) (int, error) {
	// The host part is ignored by the unix dialer; the path is unversioned,
	// which the engine serves at its current API version.
	u := "http://docker/containers/" + url.PathEscape(d.Container) + "/" + verb
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("docker %s %s: %w", verb, d.Container, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusNotModified, http.StatusOK:
		return resp.StatusCode, nil
	}
	var msg struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Message == "" {
		msg.Message = string(body)
	}
	return resp.StatusCode, fmt.Errorf("docker %s %s: %d %s", verb, d.Container, resp.StatusCode, msg.Message)
}
