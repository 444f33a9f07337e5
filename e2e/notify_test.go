//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// peopleSink is a webhook receiver standing in for people: it records every
// notification Alertmanager sends it.
type peopleSink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []webhook.Message
}

func newPeopleSink(t *testing.T) *peopleSink {
	s := &peopleSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhook.Message
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
			t.Errorf("people sink: not a webhook payload: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, m)
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// told returns the notification that told people alertname is firing.
func (s *peopleSink) told(alertname string) (webhook.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == alertname && a.Status == "firing" {
				return m, true
			}
		}
	}
	return webhook.Message{}, false
}

// shippedAlertmanager is deploy/alertmanager/alertmanager.yml, unchanged but
// for where things are on this machine: the remediator's URL and token, and
// a webhook for people (the file leaves its integrations as examples).
func shippedAlertmanager(t *testing.T, l *loop, people string) string {
	t.Helper()
	b, err := os.ReadFile("../deploy/alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for old, repl := range map[string]string{
		"http://remediator:9788":                     l.remediator,
		"/etc/alertmanager/secrets/remediator.token": l.path("token"),
		"  - name: people\n":                         fmt.Sprintf("  - name: people\n    webhook_configs:\n      - url: %s\n        send_resolved: true\n", people),
	} {
		if strings.Count(cfg, old) != 1 {
			t.Fatalf("deploy/alertmanager/alertmanager.yml: %q appears %d times, want once", old, strings.Count(cfg, old))
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	return cfg
}

// TestNotifyPeople runs the loop with the shipped Alertmanager routing. A
// hung gateway's critical alert reaches people, and the remediator as well
// (continue): the remediator's restart waits for approval here, so that the
// alert stays firing past the people route's 30 s group_wait; approved, it
// heals the gateway.
func TestNotifyPeople(t *testing.T) {
	t.Parallel()
	people := newPeopleSink(t)
	l := startLoop(t, loopOptions{
		remediator:   approvalFor("restart"),
		alertmanager: func(l *loop) string { return shippedAlertmanager(t, l, people.srv.URL) },
	})
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"hang"}`)

	var pending incident
	simtest.Eventually(t, l.patience, func() error {
		for _, i := range l.mustIncidents() {
			if i.AlertName == "OpenClawGatewayHung" && i.Decision == "pending_approval" {
				pending = i
				return nil
			}
		}
		return fmt.Errorf("the remediator has no pending OpenClawGatewayHung incident yet")
	})
	var msg webhook.Message
	simtest.Eventually(t, l.patience, func() error {
		m, ok := people.told("OpenClawGatewayHung")
		if !ok {
			return fmt.Errorf("people were not told of OpenClawGatewayHung yet")
		}
		msg = m
		return nil
	})
	told := time.Now()
	if msg.Receiver != "people" {
		t.Errorf("notification from receiver %q, want people", msg.Receiver)
	}
	for _, a := range msg.Alerts {
		if a.Labels["alertname"] != "OpenClawGatewayHung" {
			continue
		}
		if a.Labels["severity"] != "critical" || a.Labels["gateway"] != "default" || a.Annotations["runbook_url"] == "" {
			t.Errorf("people were told %v %v", a.Labels, a.Annotations)
		}
	}

	if code, body := l.remediatorAPI(http.MethodPost, "/api/v1/incidents/"+pending.ID+"/approve"); code != http.StatusOK {
		t.Fatalf("approve %s: %d %s", pending.ID, code, body)
	}
	tl := l.recover(fault, "OpenClawGatewayHung", "restart", l.restartedFrom(pid, func(openclawState) error { return nil }))
	t.Logf("people told %.1fs after the fault; then approved and healed: %s", told.Sub(fault).Seconds(), tl)
}
