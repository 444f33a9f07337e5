package console_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/remediator"
	"github.com/clawwatch/clawwatch/remediator/auth"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/console"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// rig is a remediator served as openclaw-remediator serves it (API behind
// the bearer token, console beside it), acting on a simulator with the
// process driver.
type rig struct {
	t         *testing.T
	bearer    *auth.Bearer
	tokenFile string
	sim       *simtest.Sim
	rem       *remediator.Remediator
	j         *journal.Journal
	srv       *httptest.Server
	token     string
	clock     *offsetClock
	logs      *simtest.Buffer
	cfg       *config.Config
}

// offsetClock is the wall clock moved forward by hand, for expiry.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

const testToken = "s3cret-console-token"

func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	sim := simtest.Start(t, simtest.Options{})
	t.Cleanup(func() { simtest.KillListener(sim.Port) })
	_, ctl, _ := strings.Cut(sim.ControlURL, "http://")
	argv, _ := json.Marshal([]string{simtest.Binary(t), "--port", strconv.Itoa(sim.Port), "--control.listen-address", ctl,
		"--state-dir", sim.StateDir, "--log-dir", sim.LogDir, "--version", "2026.9.6", "--token", ""})
	cfgYAML := fmt.Sprintf(`
approval: {timeout: 1h}
limits: {cooldown: 1ms, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
policies:
  - name: restart_with_approval
    matchers: ['remediation="restart"']
    approval: true
targets:
  - name: default
    url: %s
    state_dir: %s
    log_dirs: [%s]
    stop_timeout: 5s
    verify: {timeout: 20s, interval: 100ms}
    driver: {kind: process, start: %s, output: %s}
`, sim.URL, sim.StateDir, sim.LogDir, argv, filepath.Join(dir, "gateway.out"))
	cfg, err := config.Parse([]byte(cfgYAML), dir)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, cfgYAML)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bearer, err := auth.NewBearer(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(cfg.Journal.Path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, bearer: bearer, tokenFile: tokenFile, sim: sim, j: j, token: testToken, clock: &offsetClock{}, logs: &simtest.Buffer{}, cfg: cfg}
	logger := promslog.New(&promslog.Config{Writer: r.logs})
	r.rem, err = remediator.New(cfg, j, prometheus.NewRegistry(), logger, remediator.Options{Now: r.clock.Now, Housekeeping: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.rem.Start(); err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Options{
		Backend: r.rem, Token: bearer.Matches, Logger: logger, Now: r.clock.Now,
		PrometheusURL: mustURL(t, "http://prometheus.example:9090"), GrafanaURL: mustURL(t, "http://grafana.example:3000/"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same mux as openclaw-remediator's.
	mux := http.NewServeMux()
	mux.Handle("/api/", r.rem.Handler(bearer.Wrap))
	mux.Handle(console.Path, con.Handler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		r.srv.Close()
		r.rem.Close()
		j.Close()
		if t.Failed() {
			t.Logf("remediator log:\n%s", r.logs)
		}
	})
	return r
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fire posts the hung-gateway alert with its own fingerprint, starting now,
// as Alertmanager would, and returns the incident id.
func (r *rig) fire(fp string) string {
	r.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "alertmanager", "firing_gateway_hung.json"))
	if err != nil {
		r.t.Fatal(err)
	}
	startsAt := r.clock.Now().Add(-2 * time.Minute).UTC().Truncate(time.Millisecond)
	body := strings.NewReplacer("6f8b1a2c3d4e5f60", fp, "2026-11-20T22:41:07.118Z", startsAt.Format(time.RFC3339Nano)).Replace(string(data))
	code, out := r.api(http.MethodPost, "/api/v1/alerts", body)
	if code != http.StatusOK {
		r.t.Fatalf("webhook: %d %s", code, out)
	}
	return journal.ID(fp, startsAt)
}

// api calls the remediator's API with the bearer token.
func (r *rig) api(method, path, body string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *rig) waitIncident(id string, timeout time.Duration, cond func(*journal.Incident) error) *journal.Incident {
	r.t.Helper()
	var inc *journal.Incident
	simtest.Eventually(r.t, timeout, func() error {
		var err error
		if inc, err = r.j.Incident(id); err != nil {
			return err
		}
		return cond(inc)
	})
	return inc
}

func inState(state string) func(*journal.Incident) error {
	return func(inc *journal.Incident) error {
		if inc.State != state {
			return fmt.Errorf("incident %s is %s (%s)", inc.ID, inc.State, inc.Reason)
		}
		return nil
	}
}

// page is one plain HTTP request, for what a browser does not show: status
// codes, headers, downloads.
type page struct {
	code   int
	header http.Header
	body   string
}

func get(t *testing.T, c *http.Client, u string) page {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) page {
	t.Helper()
	resp, err := c.Post(u, "application/x-www-form-urlencoded", bytes.NewBufferString(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

// signedIn is an HTTP client with a console session, signed in through the
// form as a browser would.
func (r *rig) signedIn() *http.Client {
	r.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	p := postForm(r.t, c, r.srv.URL+"/console/sign-in", url.Values{"token": {r.token}, "next": {"/console/approvals"}})
	if p.code != http.StatusOK || !strings.Contains(p.body, "Pending approvals") {
		r.t.Fatalf("sign-in: %d\n%s", p.code, p.body)
	}
	return c
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the form token in a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in\n%s", body)
	}
	return m[1]
}
