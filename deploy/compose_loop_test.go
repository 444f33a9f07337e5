//go:build dockerengine

package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// TestComposeLoop runs against the stack deploy/localimages/stack-test.sh
// brought up with `docker compose up` on a private engine ($DOCKER_HOST):
// a hang injected through the simulator's published control API is seen by
// the exporter in the gateway's namespaces, fires in Prometheus, is routed
// by Alertmanager to the remediator, which restarts the gateway container
// through the Engine API on its mounted socket and verifies it; the alert
// resolves. Every step is asserted from outside and logged with its time.
func TestComposeLoop(t *testing.T) {
	sock, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if !ok {
		t.Fatal("DOCKER_HOST must be the private engine's unix:// socket: run deploy/localimages/stack-test.sh")
	}
	p := loadProject(t)
	s := stack{
		t:            t,
		engine:       engineClient(sock),
		gateway:      published(t, p, "pod", 18789),
		control:      published(t, p, "pod", 18790),
		exporter:     published(t, p, "pod", 9787),
		prometheus:   published(t, p, "prometheus", 9090),
		alertmanager: published(t, p, "alertmanager", 9093),
		remediator:   published(t, p, "remediator", 9788),
		container:    p.Services["gateway"].ContainerName,
		start:        time.Now(),
	}
	token, err := os.ReadFile("compose/remediator.token")
	if err != nil {
		t.Fatal(err)
	}
	s.token = strings.TrimSpace(string(token))

	// Up: Prometheus scrapes the exporter through the pod, the remediator
	// with its token, and itself; the exporter sees the gateway's process.
	simtest.Eventually(t, 3*time.Minute, func() error {
		down, err := s.query(`up != 1 or absent(up{job="openclaw"}) or absent(up{job="openclaw-remediator"})`)
		if err != nil || len(down) > 0 {
			return fmt.Errorf("targets not up: %v %v", down, err)
		}
		return s.exporterSays("openclaw_gateway_up", "1", "openclaw_gateway_process_up", "1")
	})
	before := s.inspect()
	s.step("stack up: Prometheus scrapes the exporter and the remediator, the exporter sees the gateway's process; container %s started %s",
		s.container, before.State.StartedAt.Format(time.TimeOnly))

	s.do(http.MethodPost, s.control+"/faults", `{"kind":"hang"}`, http.StatusNoContent)
	s.step("hang injected through the simulator's control API on the published port")

	s.eventually(3*time.Minute, func() error {
		return s.exporterSays("openclaw_gateway_up", "0", "openclaw_gateway_process_up", "1")
	})
	s.step("exporter: openclaw_gateway_up 0 while the process is up")

	s.eventually(5*time.Minute, func() error {
		v, err := s.query(`ALERTS{alertname="OpenClawGatewayHung", alertstate="firing", gateway="default"}`)
		if err != nil || len(v) == 0 {
			return fmt.Errorf("OpenClawGatewayHung not firing (%v)", err)
		}
		return nil
	})
	s.step("Prometheus: OpenClawGatewayHung firing")

	s.eventually(2*time.Minute, func() error {
		receivers, err := s.routed("OpenClawGatewayHung")
		if err != nil || !slices.Contains(receivers, "remediator") {
			return fmt.Errorf("Alertmanager: OpenClawGatewayHung active for %v, want the remediator (%v)", receivers, err)
		}
		return nil
	})
	s.step("Alertmanager: OpenClawGatewayHung active, routed to the remediator")

	var inc journal.Incident
	s.eventually(5*time.Minute, func() error {
		var err error
		inc, err = s.incident("OpenClawGatewayHung")
		if err != nil {
			return err
		}
		if n := len(inc.Actions); n == 0 || inc.Actions[n-1].EndedAt == nil {
			return fmt.Errorf("incident %s: %s %s, no finished action yet", inc.ID, inc.State, inc.Decision)
		}
		return nil
	})
	last := inc.Actions[len(inc.Actions)-1]
	if inc.Action != "restart" || last.Result != "success" {
		t.Fatalf("incident %s: action %s ended %s: %s %s\n%s", inc.ID, inc.Action, last.Result, last.Verification, last.Error, last.Output)
	}
	s.step("remediator: %s %s, %s (%s)", inc.Action, last.Result, last.Verification, strings.ReplaceAll(last.Output, "\n", "; "))

	after := s.inspect()
	if !after.State.Running || !after.State.StartedAt.After(before.State.StartedAt) {
		t.Fatalf("engine: container %s running=%v started %s, want started again after %s",
			s.container, after.State.Running, after.State.StartedAt, before.State.StartedAt)
	}
	s.step("engine: container %s started again at %s", s.container, after.State.StartedAt.Format(time.TimeOnly))

	s.eventually(time.Minute, func() error {
		_, err := s.get(s.gateway + "/readyz")
		return err
	})
	s.step("gateway /readyz 200 on the published port")

	s.eventually(5*time.Minute, func() error {
		v, err := s.query(`ALERTS{alertname="OpenClawGatewayHung"}`)
		if err != nil || len(v) > 0 {
			return fmt.Errorf("OpenClawGatewayHung still %v (%v)", v, err)
		}
		receivers, err := s.routed("OpenClawGatewayHung")
		if err != nil || len(receivers) > 0 {
			return fmt.Errorf("Alertmanager: OpenClawGatewayHung still active (%v)", err)
		}
		return nil
	})
	s.step("resolved in Prometheus and Alertmanager")

	s.eventually(3*time.Minute, func() error {
		inc, err := s.incident("OpenClawGatewayHung")
		if err != nil || inc.ResolvedAt == nil {
			return fmt.Errorf("the remediator has not heard the alert resolve (%v)", err)
		}
		return nil
	})
	s.step("remediator: incident %s resolved", inc.ID)
}

// stack is the compose stack as seen from the host.
type stack struct {
	t                                                    *testing.T
	engine                                               *http.Client
	gateway, control, exporter, prometheus, alertmanager string
	remediator, token, container                         string
	start                                                time.Time
}

func (s *stack) step(format string, args ...any) {
	s.t.Helper()
	s.t.Logf("[%6.1fs] "+format, append([]any{time.Since(s.start).Seconds()}, args...)...)
}

func (s *stack) eventually(timeout time.Duration, cond func() error) {
	s.t.Helper()
	// Poll at a human pace: the stack scrapes and evaluates every 15 s.
	simtest.Eventually(s.t, timeout, func() error {
		err := cond()
		if err != nil {
			time.Sleep(time.Second)
		}
		return err
	})
}

// published returns the host URL of a service's container port.
func published(t *testing.T, p *types.Project, service string, target uint32) string {
	t.Helper()
	for _, port := range p.Services[service].Ports {
		if port.Target == target {
			return "http://" + net.JoinHostPort(port.HostIP, port.Published)
		}
	}
	t.Fatalf("%s: port %d is not published", service, target)
	return ""
}

func (s *stack) get(u string) ([]byte, error) {
	return s.request(http.MethodGet, u, "", "", http.StatusOK)
}

func (s *stack) do(method, u, body string, want int) {
	s.t.Helper()
	if _, err := s.request(method, u, body, "", want); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) request(method, u, body, token string, want int) ([]byte, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%s %s: %d %s", method, u, resp.StatusCode, data)
	}
	return data, err
}

var sample = regexp.MustCompile(`(?m)^(openclaw_gateway_\w+)\{[^}]*gateway="default"[^}]*\} (\S+)$`)

// exporterSays checks name/value pairs of the default gateway's series on
// the exporter's published /metrics.
func (s *stack) exporterSays(pairs ...string) error {
	data, err := s.get(s.exporter + "/metrics")
	if err != nil {
		return err
	}
	got := map[string]string{}
	for _, m := range sample.FindAllStringSubmatch(string(data), -1) {
		got[m[1]] = m[2]
	}
	for i := 0; i < len(pairs); i += 2 {
		if got[pairs[i]] != pairs[i+1] {
			return fmt.Errorf("exporter: %s %q, want %s", pairs[i], got[pairs[i]], pairs[i+1])
		}
	}
	return nil
}

func (s *stack) query(q string) ([]json.RawMessage, error) {
	data, err := s.get(s.prometheus + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	var r struct {
		Data struct{ Result []json.RawMessage }
	}
	return r.Data.Result, json.Unmarshal(data, &r)
}

// routed returns the receivers of an active alert in Alertmanager.
func (s *stack) routed(alert string) ([]string, error) {
	data, err := s.get(s.alertmanager + "/api/v2/alerts?active=true&filter=" + url.QueryEscape(`alertname="`+alert+`"`))
	if err != nil {
		return nil, err
	}
	var alerts []struct {
		Status    struct{ State string }
		Receivers []struct{ Name string }
	}
	if err := json.Unmarshal(data, &alerts); err != nil {
		return nil, err
	}
	var names []string
	for _, a := range alerts {
		if a.Status.State == "active" {
			for _, r := range a.Receivers {
				names = append(names, r.Name)
			}
		}
	}
	return names, nil
}

// incident returns the remediator's newest incident for an alert.
func (s *stack) incident(alert string) (journal.Incident, error) {
	data, err := s.request(http.MethodGet, s.remediator+"/api/v1/incidents", "", s.token, http.StatusOK)
	if err != nil {
		return journal.Incident{}, err
	}
	var r struct{ Incidents []journal.Incident }
	if err := json.Unmarshal(data, &r); err != nil {
		return journal.Incident{}, err
	}
	for _, inc := range r.Incidents {
		if inc.AlertName == alert && inc.ReceivedAt.After(s.start) {
			return inc, nil
		}
	}
	return journal.Incident{}, fmt.Errorf("no incident for %s yet (%d in the journal)", alert, len(r.Incidents))
}

// container is the part of the Engine API's container inspection the test reads.
type container struct {
	State struct {
		Running   bool
		StartedAt time.Time
	}
}

func engineClient(sock string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func (s *stack) inspect() container {
	s.t.Helper()
	resp, err := s.engine.Get("http://docker/containers/" + url.PathEscape(s.container) + "/json")
	if err != nil {
		s.t.Fatalf("engine: %v", err)
	}
	defer resp.Body.Close()
	var c container
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("engine: inspect %s: %d %v", s.container, resp.StatusCode, err)
	}
	return c
}
