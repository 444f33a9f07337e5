package remediator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// notifySink is a notify endpoint on loopback that records what it gets.
type notifySink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	types  []string
}

func newNotifySink(t *testing.T, code int) *notifySink {
	n := &notifySink{}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("notify body is not JSON: %v: %s", err, b)
		}
		n.mu.Lock()
		n.bodies = append(n.bodies, body)
		n.types = append(n.types, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		n.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *notifySink) calls() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.bodies)
}

// escalationConfig: three failed verifications open the circuit; the
// quiet period is the test's to choose.
func escalationConfig(t *testing.T, notifyURL, quiet string) string {
	return fmt.Sprintf(`
limits: {cooldown: 1ms, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: %s}
notify: {url: %q, timeout: 2s}
targets:`, quiet, notifyURL) + remtest.CommandTarget(t, "default")
}

// openCircuit posts the hung-gateway alert and waits until its three
// attempts failed verification and the circuit opened.
func openCircuit(h *harness.Harness) *journal.Incident {
	h.T.Helper()
	if code, _ := h.Post(remtest.Fixture(h.T, "firing_gateway_hung.json")); code != http.StatusOK {
		h.T.Fatalf("webhook: %d", code)
	}
	inc := h.WaitIncident(hungID, 30*time.Second, remtest.Done)
	if len(inc.Actions) != 3 || inc.Actions[2].Result != journal.ResultVerifyFailed || !strings.HasPrefix(inc.Reason, "escalated: ") {
		h.T.Fatalf("incident %+v", inc)
	}
	if got := h.Value("openclaw_remediator_circuit_open", "target", "default"); got != 1 {
		h.T.Fatalf("circuit_open = %v", got)
	}
	return inc
}

// another posts a second incident for the target (another fingerprint).
func another(h *harness.Harness, fp string) *journal.Incident {
	h.T.Helper()
	h.Post(remtest.Fixture(h.T, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", fp))
	return h.WaitIncident(journal.ID(fp, mustTime("2026-11-20T22:41:07.118Z")), 10*time.Second, remtest.Done)
}

// When attempts are used up the circuit opens and the notify webhook is
// called once, with a JSON body naming target, reason and incident, and the
// incident's page when an external URL is configured; later incidents
// refused by the open circuit call it no more.
func TestCircuitOpenNotifiesOnce(t *testing.T) {
	sink := newNotifySink(t, http.StatusOK)
	page := func(id string) string { return "https://remediator.example/console/incidents/" + id }
	h := harness.NewWith(t, escalationConfig(t, sink.srv.URL+"/hooks/openclaw", "0s"), harness.Options{IncidentURL: page})
	inc := openCircuit(h)
	simtest.Eventually(t, 10*time.Second, func() error {
		if n := sink.calls(); n != 1 {
			return fmt.Errorf("%d notify calls", n)
		}
		return nil
	})
	sink.mu.Lock()
	body, kind := sink.bodies[0], sink.types[0]
	sink.mu.Unlock()
	if kind != "POST /hooks/openclaw application/json" {
		t.Errorf("request %q", kind)
	}
	for k, want := range map[string]string{
		"event": "circuit_open", "target": "default", "action": "restart", "incident": inc.ID, "alertname": "OpenClawGatewayHung",
		"incidentURL": page(inc.ID),
	} {
		if body[k] != want {
			t.Errorf("notify %s = %v, want %q", k, body[k], want)
		}
	}
	if r, _ := body["reason"].(string); !strings.Contains(r, "restart failed 3 time(s) in a row") {
		t.Errorf("notify reason %q", r)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(body["openedAt"])); err != nil {
		t.Errorf("openedAt %v: %v", body["openedAt"], err)
	}

	if other := another(h, "7f8b1a2c3d4e5f61"); other.Decision != journal.DecisionCircuitOpen {
		t.Fatalf("second incident: %+v", other)
	}
	h.Stop() // waits for every notify call the remediator started
	if n := sink.calls(); n != 1 {
		t.Fatalf("%d notify calls, want 1", n)
	}
}

// A notify endpoint that fails or is down is logged; the journal keeps the
// escalation, nothing is retried, nothing counts as a journal error.
func TestNotifyFailureIsLoggedAndNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) (string, *notifySink)
		log  string
	}{
		{"endpoint answers 503", func(t *testing.T) (string, *notifySink) {
			s := newNotifySink(t, http.StatusServiceUnavailable)
			return s.srv.URL, s
		}, "status 503"},
		{"endpoint down", func(t *testing.T) (string, *notifySink) {
			return fmt.Sprintf("http://127.0.0.1:%d/hook", simtest.FreePort(t)), nil
		}, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, sink := tc.url(t)
			h := harness.New(t, escalationConfig(t, url, "0s"))
			openCircuit(h)
			simtest.Eventually(t, 10*time.Second, func() error {
				if l := h.Logs.String(); !strings.Contains(l, "escalation notify failed") || !strings.Contains(l, tc.log) {
					return fmt.Errorf("no failure logged yet:\n%s", l)
				}
				return nil
			})
			ts, err := h.J.Target("default")
			if err != nil || !ts.CircuitOpen || ts.Reason == "" {
				t.Fatalf("target state %+v, %v", ts, err)
			}
			if inc, err := h.J.Incident(hungID); err != nil || inc.State != journal.StateDone {
				t.Fatalf("incident %+v, %v", inc, err)
			}
			if n := h.Value("openclaw_remediator_journal_errors_total"); n != 0 {
				t.Errorf("journal_errors_total = %v", n)
			}
			h.Stop()
			if sink != nil && sink.calls() != 1 {
				t.Errorf("%d notify calls, want 1 (no retries)", sink.calls())
			}
			if n := strings.Count(h.Logs.String(), "escalation notify failed"); n != 1 {
				t.Errorf("%d failures logged, want 1", n)
			}
		})
	}
}

// The open circuit keeps its state across a restart of the remediator and
// closes after its quiet period without incidents, counted from the last
// incident it refused.
func TestCircuitSurvivesRestartAndClosesAfterQuietPeriod(t *testing.T) {
	clock := remtest.NewFakeClock(t0)
	sink := newNotifySink(t, http.StatusOK)
	h := harness.NewWith(t, escalationConfig(t, sink.srv.URL, "1h"), harness.Options{Now: clock.Now, Housekeeping: 10 * time.Millisecond})
	openCircuit(h)

	clock.Add(50 * time.Minute)
	h.Restart()
	if got := h.Value("openclaw_remediator_circuit_open", "target", "default"); got != 1 {
		t.Fatalf("circuit_open after restart = %v", got)
	}
	// Refused at 50 min: the quiet period now runs until 1 h 50 min.
	if other := another(h, "7f8b1a2c3d4e5f61"); other.Decision != journal.DecisionCircuitOpen {
		t.Fatalf("incident after restart: %+v", other)
	}
	clock.Add(30 * time.Minute)
	h.Rem.Incidents().Housekeep(clock.Now())
	if got := h.Value("openclaw_remediator_circuit_open", "target", "default"); got != 1 {
		t.Fatalf("closed 30 min after the last refused incident")
	}
	clock.Add(31 * time.Minute)
	simtest.Eventually(t, 10*time.Second, func() error {
		if got := h.Value("openclaw_remediator_circuit_open", "target", "default"); got != 0 {
			return fmt.Errorf("circuit_open = %v", got)
		}
		return nil
	})
	if ts, _ := h.J.Target("default"); ts.CircuitOpen || ts.Failures != 0 {
		t.Fatalf("target after the quiet period: %+v", ts)
	}
	if !strings.Contains(h.Logs.String(), "circuit closed after its quiet period") {
		t.Error("closing not logged")
	}
}
