// Package remtest is the remediator's test support, shared by the tests of
// the remediator's packages, its console and its command: the webhook
// bodies of testdata, targets to act on, a clock, and the waits on
// incidents and series. Package harness runs a whole remediator. Tests
// only.
package remtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Value reads one series of reg: a counter's, a gauge's or a histogram's
// count.
func Value(t testing.TB, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.GetCounter().GetValue()
				case m.Gauge != nil:
					return m.GetGauge().GetValue()
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// WaitIncident polls get until the incident satisfies cond.
func WaitIncident(t testing.TB, get func(id string) (*journal.Incident, error), id string, timeout time.Duration, cond func(*journal.Incident) error) *journal.Incident {
	t.Helper()
	var inc *journal.Incident
	simtest.Eventually(t, timeout, func() error {
		var err error
		if inc, err = get(id); err != nil {
			return err
		}
		return cond(inc)
	})
	return inc
}

// Done is a condition of WaitIncident: the incident ended.
func Done(inc *journal.Incident) error { return InState(journal.StateDone)(inc) }

// InState is a condition of WaitIncident: the incident is in state.
func InState(state string) func(*journal.Incident) error {
	return func(inc *journal.Incident) error {
		if inc.State != state {
			return fmt.Errorf("incident %s is %s (%s), want %s; actions %+v", inc.ID, inc.State, inc.Reason, state, inc.Actions)
		}
		return nil
	}
}

// FakeClock is the remediator's clock in tests of expiry and quiet
// periods.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock starts at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now is the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock.
func (c *FakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Testdata is the repository's testdata directory.
func Testdata(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", "..", "testdata"}, elem...)...)
}

// Fixture reads testdata/alertmanager/name and rewrites labels and
// fingerprints with the replacer's pairs.
func Fixture(t testing.TB, name string, pairs ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(Testdata("alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(data)))
}

// HungStartsAt is when the hung-gateway fixture's alert started.
var HungStartsAt = time.Date(2026, 11, 20, 22, 41, 7, 118e6, time.UTC)

// Alert is the hung-gateway fixture's webhook body, its one alert named
// alertname with fingerprint fp and the remediation label.
func Alert(t testing.TB, alertname, fp, remediation string) []byte {
	t.Helper()
	return WithLabels(t, Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", fp),
		map[string]string{"alertname": alertname, "remediation": remediation})
}

// WithLabels adds labels to every alert of a webhook body.
func WithLabels(t testing.TB, body []byte, labels map[string]string) []byte {
	t.Helper()
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	for _, a := range msg["alerts"].([]any) {
		ls := a.(map[string]any)["labels"].(map[string]any)
		for k, v := range labels {
			ls[k] = v
		}
	}
	out, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// CommandTarget is a target whose driver runs /bin/true and whose URL
// answers nothing, so that every verification fails fast.
func CommandTarget(t testing.TB, name string) string {
	t.Helper()
	return fmt.Sprintf(`
  - name: %s
    url: http://127.0.0.1:%d
    state_dir: %s
    log_dirs: [%s]
    verify: {timeout: 200ms, interval: 20ms}
    driver: {kind: command, start: [/bin/true], stop: [/bin/true]}
`, name, simtest.FreePort(t), t.TempDir(), t.TempDir())
}

// SimTarget starts a simulator and returns it with the target YAML that
// restarts it with the process driver.
func SimTarget(t *testing.T, name string, extra ...string) (*simtest.Sim, string) {
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

// RestartNeedsApproval holds restarts an hour for approval; the targets
// follow.
const RestartNeedsApproval = `
approval: {timeout: 1h}
policies:
  - name: restart_with_approval
    matchers: ['remediation="restart"']
    approval: true
targets:`

// LimitsForTests retry at once and never wait for a quiet period.
const LimitsForTests = `
limits: {cooldown: 1m, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
`
