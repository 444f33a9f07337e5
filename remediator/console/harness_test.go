package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/auth"
	"github.com/clawwatch/clawwatch/remediator/console"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// consoleHarness is the harness's remediator served as openclaw-remediator serves it (API behind
// the bearer token, console beside it), acting on a simulator with the
// process driver.
type consoleHarness struct {
	*harness.Harness
	t         *testing.T
	bearer    *auth.Bearer
	tokenFile string
	simArgv   []string // the simulator without --version
	sim       *simtest.Sim
	token     string
	clock     *offsetClock
}

// offsetClock is the wall clock moved forward by hand, for expiry.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

const testToken = "s3cret-console-token"

func newConsoleHarness(t *testing.T) *consoleHarness {
	t.Helper()
	sim := simtest.Start(t, simtest.Options{Version: goodVersion})
	t.Cleanup(func() { simtest.KillListener(sim.Port) })
	_, ctl, _ := strings.Cut(sim.ControlURL, "http://")
	simArgv := []string{simtest.Binary(t), "--port", strconv.Itoa(sim.Port), "--control.listen-address", ctl,
		"--state-dir", sim.StateDir, "--log-dir", sim.LogDir, "--token", ""}
	start, _ := json.Marshal(append(slices.Clone(simArgv), "--gateway-version", goodVersion))
	// The simulator's own stand-in for `openclaw update --tag V`: it stops
	// the running gateway and starts version V in the background.
	update, _ := json.Marshal(append(slices.Clone(simArgv), "--gateway-version", "{version}", "--replace", "--detach"))
	cfgYAML := fmt.Sprintf(`
approval: {timeout: 1h}
limits: {cooldown: 1ms, max_attempts: 3, window: 1h, retry_delay: 10ms, circuit_quiet_period: 0s}
policies:
  - name: needs_approval
    matchers: ['remediation=~"restart|rollback"']
    approval: true
targets:
  - name: default
    url: %s
    state_dir: %s
    log_dirs: [%s]
    stop_timeout: 5s
    verify: {timeout: 20s, interval: 100ms}
    rollback: {command: %s}
    driver: {kind: process, start: %s, output: %s}
`, sim.URL, sim.StateDir, sim.LogDir, update, start, filepath.Join(t.TempDir(), "gateway.out"))
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bearer, err := auth.NewBearer(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	r := &consoleHarness{t: t, bearer: bearer, tokenFile: tokenFile, simArgv: simArgv, sim: sim, token: testToken, clock: &offsetClock{}}
	r.Harness = harness.NewWith(t, cfgYAML, harness.Options{Now: r.clock.Now, Housekeeping: 50 * time.Millisecond, Serve: func(h *harness.Harness) http.Handler {
		con, err := console.New(console.Options{
			Backend: h.Rem.Incidents(), Config: h.Rem.Config, Token: bearer.Matches, Logger: promslog.New(&promslog.Config{Writer: h.Logs}), Now: r.clock.Now,
			PrometheusURL: mustURL(t, "http://prometheus.example:9090"), GrafanaURL: mustURL(t, "http://grafana.example:3000/"),
		})
		if err != nil {
			t.Fatal(err)
		}
		// The same mux as openclaw-remediator's.
		mux := http.NewServeMux()
		mux.Handle("/api/", h.Rem.Handler(bearer.Wrap))
		mux.Handle(console.Path, con.Handler())
		return mux
	}})
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

const (
	goodVersion = "2026.9.4"
	badVersion  = "2026.9.6"
)

// Alertmanager payloads in testdata/alertmanager, with the fingerprint and
// startsAt that fire replaces.
var (
	hungAlert     = fixture{"firing_gateway_hung.json", "6f8b1a2c3d4e5f60", "2026-11-20T22:41:07.118Z"}
	rollbackAlert = fixture{"rollback_after_upgrade.json", "5f60718293a4b5c6", "2026-11-22T08:00:00Z"}
)

type fixture struct{ file, fingerprint, startsAt string }

// fire posts the hung-gateway alert with its own fingerprint, starting now,
// as Alertmanager would, and returns the incident id.
func (r *consoleHarness) fire(fp string) string { return r.fireAlert(hungAlert, fp) }

// fireAlert posts a fixture's alert with fingerprint fp, started two
// minutes ago.
func (r *consoleHarness) fireAlert(f fixture, fp string) string {
	r.t.Helper()
	startsAt := r.clock.Now().Add(-2 * time.Minute).UTC().Truncate(time.Millisecond)
	body := remtest.Fixture(r.t, f.file, f.fingerprint, fp, f.startsAt, startsAt.Format(time.RFC3339Nano))
	code, out := r.api(http.MethodPost, "/api/v1/alerts", string(body))
	if code != http.StatusOK {
		r.t.Fatalf("webhook: %d %s", code, out)
	}
	return journal.ID(fp, startsAt)
}

// api calls the remediator's API with the bearer token.
func (r *consoleHarness) api(method, path, body string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.Srv.URL+path, strings.NewReader(body))
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
func (r *consoleHarness) signedIn() *http.Client {
	r.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	p := postForm(r.t, c, r.Srv.URL+"/console/sign-in", url.Values{"token": {r.token}, "next": {"/console/approvals"}})
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

// upgrade replaces the running simulator with another version, as an
// operator's `openclaw update` would, and waits until it answers.
func (r *consoleHarness) upgrade(version string) {
	r.t.Helper()
	argv := append(slices.Clone(r.simArgv), "--gateway-version", version, "--replace", "--detach")
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		r.t.Fatalf("upgrade to %s: %v\n%s", version, err, out)
	}
	r.waitVersion(version)
}

// waitVersion waits until the gateway reports version and is healthy.
func (r *consoleHarness) waitVersion(want string) {
	r.t.Helper()
	simtest.Eventually(r.t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		v, err := openclaw.VersionFromControlUI(ctx, http.DefaultClient, r.sim.URL)
		if err != nil || v.Version != want {
			return fmt.Errorf("gateway reports %q (%v), want %q", v.Version, err, want)
		}
		return simtest.Healthy(r.sim.URL)
	})
}
