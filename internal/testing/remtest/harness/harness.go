// Package harness runs a whole remediator in the test's process, served on
// a loopback test server, for the tests of the remediator, its console and
// its command. Tests only.
package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/incident"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Harness is a remediator in the test's process, served on a loopback test
// server.
type Harness struct {
	T    *testing.T
	Rem  *remediator.Remediator
	J    *journal.Journal
	Reg  *prometheus.Registry
	Srv  *httptest.Server
	Dir  string
	Cfg  *config.Config
	Logs *simtest.Buffer
	o    Options
}

// Options are the seams a test may set; zero values are the wall clock and
// the production housekeeping interval.
type Options struct {
	// Now is the remediator's clock.
	Now          func() time.Time
	Housekeeping time.Duration
	IncidentURL  func(id string) string
	// Prometheus is where upgrades observe their batches.
	Prometheus string
	// Serve is what the test server serves, built once the remediator
	// runs; nil: its API without authentication.
	Serve func(h *Harness) http.Handler
}

// New starts a remediator with the configuration cfgYAML, whose relative
// paths are relative to a new directory, Dir.
func New(t *testing.T, cfgYAML string) *Harness {
	t.Helper()
	return NewWith(t, cfgYAML, Options{})
}

// NewWith is New with options.
func NewWith(t *testing.T, cfgYAML string, o Options) *Harness {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(cfgYAML), dir, actions.ConfigSpecs())
	if err != nil {
		t.Fatalf("config: %v\n%s", err, cfgYAML)
	}
	h := &Harness{T: t, Dir: dir, Cfg: cfg, o: o, Logs: &simtest.Buffer{}}
	h.Start()
	t.Cleanup(func() {
		h.Stop()
		if t.Failed() {
			t.Logf("remediator log:\n%s", h.Logs)
		}
	})
	return h
}

// Start opens the journal and runs a remediator over it, as the binary does
// at start.
func (h *Harness) Start() {
	h.T.Helper()
	j, err := journal.Open(h.Cfg.Journal.Path, journal.Options{})
	if err != nil {
		h.T.Fatal(err)
	}
	o := remediator.Options{Now: h.o.Now, Housekeeping: h.o.Housekeeping, IncidentURL: h.o.IncidentURL, PrometheusURL: h.o.Prometheus}
	reg := prometheus.NewPedanticRegistry()
	logger := promslog.New(&promslog.Config{Writer: h.Logs})
	rem, err := remediator.New(h.Cfg, j, reg, logger, o)
	if err != nil {
		h.T.Fatal(err)
	}
	if err := rem.Start(); err != nil {
		h.T.Fatal(err)
	}
	h.Rem, h.J, h.Reg = rem, j, reg
	handler := rem.Handler(nil)
	if h.o.Serve != nil {
		handler = h.o.Serve(h)
	}
	h.Srv = httptest.NewServer(handler)
}

// Stop shuts the remediator down and closes its journal; it waits for
// everything the remediator started, notify calls included.
func (h *Harness) Stop() {
	if h.Rem == nil {
		return
	}
	h.Srv.Close()
	h.Rem.Close()
	h.J.Close()
	h.Rem = nil
}

// Restart is a restart of the remediator process on the same journal.
func (h *Harness) Restart() {
	h.T.Helper()
	h.Stop()
	h.Start()
}

// Post delivers a webhook body and returns the status and the ack.
func (h *Harness) Post(body []byte) (int, incident.Ack) {
	h.T.Helper()
	resp, err := http.Post(h.Srv.URL+"/api/v1/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	var ack incident.Ack
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, &ack); err != nil {
			h.T.Fatalf("ack %s: %v", data, err)
		}
	}
	return resp.StatusCode, ack
}

// WaitIncident polls the journal until the incident satisfies cond.
func (h *Harness) WaitIncident(id string, timeout time.Duration, cond func(*journal.Incident) error) *journal.Incident {
	h.T.Helper()
	return remtest.WaitIncident(h.T, h.J.Incident, id, timeout, cond)
}

// WaitIdle polls until nothing is queued or running.
func (h *Harness) WaitIdle(timeout time.Duration) {
	h.T.Helper()
	simtest.Eventually(h.T, timeout, func() error {
		if !h.Rem.Incidents().Idle() {
			return fmt.Errorf("incidents queued or running")
		}
		return nil
	})
}

// Value is the value of the remediator's series name with labels, given
// as name, value pairs; 0 when there is none.
func (h *Harness) Value(name string, labels ...string) float64 {
	h.T.Helper()
	return remtest.Value(h.T, h.Reg, name, labels...)
}
