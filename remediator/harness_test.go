package remediator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// harness is a remediator in this process, served on a loopback test server.
type harness struct {
	t    *testing.T
	rem  *Remediator
	j    *journal.Journal
	reg  *prometheus.Registry
	srv  *httptest.Server
	dir  string
	cfg  *config.Config
	opts harnessOptions
	logs *simtest.Buffer
}

// harnessOptions are the seams a test may set; zero values are the wall
// clock and the production housekeeping interval.
type harnessOptions struct {
	clock        *fakeClock
	housekeeping time.Duration
	incidentURL  func(id string) string
	prometheus   string // upgrade.go observes batches here
}

func newHarness(t *testing.T, cfgYAML string) *harness {
	t.Helper()
	return newHarnessWith(t, cfgYAML, harnessOptions{})
}

func newHarnessWith(t *testing.T, cfgYAML string, o harnessOptions) *harness {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(cfgYAML), dir)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, cfgYAML)
	}
	h := &harness{t: t, dir: dir, cfg: cfg, opts: o, logs: &simtest.Buffer{}}
	h.start()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("remediator log:\n%s", h.logs)
		}
	})
	return h
}

// start opens the journal and runs a remediator over it, as the binary does
// at start.
func (h *harness) start() {
	h.t.Helper()
	j, err := journal.Open(h.cfg.Journal.Path, journal.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	o := Options{Housekeeping: h.opts.housekeeping, IncidentURL: h.opts.incidentURL, PrometheusURL: h.opts.prometheus}
	if h.opts.clock != nil {
		o.Now = h.opts.clock.Now
	}
	reg := prometheus.NewPedanticRegistry()
	logger := promslog.New(&promslog.Config{Writer: h.logs})
	rem, err := New(h.cfg, j, reg, logger, o)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := rem.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.rem, h.j, h.reg = rem, j, reg
	h.srv = httptest.NewServer(rem.Handler(nil))
}

// stop shuts the remediator down and closes its journal; it waits for
// everything the remediator started, notify calls included.
func (h *harness) stop() {
	if h.rem == nil {
		return
	}
	h.srv.Close()
	h.rem.Close()
	h.j.Close()
	h.rem = nil
}

// restart is a restart of the remediator process on the same journal.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

// fakeClock is the remediator's clock in tests of expiry and quiet periods.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixture reads testdata/alertmanager/name and rewrites labels and
// fingerprints with the replacer's pairs.
func fixture(t testing.TB, name string, pairs ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(data)))
}

func (h *harness) post(body []byte) (int, ackBody) {
	h.t.Helper()
	resp, err := http.Post(h.srv.URL+"/api/v1/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ack ackBody
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, &ack); err != nil {
			h.t.Fatalf("ack %s: %v", data, err)
		}
	}
	return resp.StatusCode, ack
}

// waitIncident polls until the incident satisfies cond.
func (h *harness) waitIncident(id string, timeout time.Duration, cond func(*journal.Incident) error) *journal.Incident {
	h.t.Helper()
	var inc *journal.Incident
	simtest.Eventually(h.t, timeout, func() error {
		var err error
		if inc, err = h.j.Incident(id); err != nil {
			return err
		}
		return cond(inc)
	})
	return inc
}

func done(inc *journal.Incident) error {
	if inc.State != journal.StateDone {
		return fmt.Errorf("incident %s is %s (%s), actions %+v", inc.ID, inc.State, inc.Reason, inc.Actions)
	}
	return nil
}

func (h *harness) counter(name string, labels ...string) float64 {
	h.t.Helper()
	var c prometheus.Collector
	switch name {
	case "incidents":
		c = h.rem.m.incidents.WithLabelValues(labels...)
	case "actions":
		c = h.rem.m.actions.WithLabelValues(labels...)
	case "circuit":
		c = h.rem.m.circuit.WithLabelValues(labels...)
	case "requests":
		c = h.rem.m.requests.WithLabelValues(labels...)
	default:
		h.t.Fatalf("unknown counter %s", name)
	}
	return testutil.ToFloat64(c)
}

// simTarget starts a simulator and returns it with the target YAML that
// restarts it with the process driver.
func simTarget(t *testing.T, name string, extra ...string) (*simtest.Sim, string) {
	t.Helper()
	s := simtest.Start(t, simtest.Options{Args: extra})
	_, ctl, _ := strings.Cut(s.ControlURL, "http://")
	argv := append([]string{simtest.Binary(t), "--port", strconv.Itoa(s.Port), "--control.listen-address", ctl,
		"--state-dir", s.StateDir, "--log-dir", s.LogDir, "--gateway-version", "2026.9.6", "--token", ""}, extra...)
	quoted, _ := json.Marshal(argv)
	t.Cleanup(func() { simtest.KillListener(s.Port) })
	return s, fmt.Sprintf(`
  - name: %s
    url: %s
    state_dir: %s
    log_dirs: [%s]
    stop_timeout: 5s
    verify: {timeout: 20s, interval: 100ms}
    driver:
      kind: process
      start: %s
      output: %s
`, name, s.URL, s.StateDir, s.LogDir, quoted, filepath.Join(t.TempDir(), "gateway.out"))
}

// healthy is simtest.Healthy, under the name these tests use.
var healthy = simtest.Healthy

const limitsForTests = `
limits: {cooldown: 1m, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
`
