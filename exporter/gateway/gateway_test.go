package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/exporter/target/targettest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

const (
	live  = `{"ok":true,"status":"live"}`
	ready = `{"ready":true,"failing":[],"uptimeMs":12500,"eventLoop":{"degraded":false,"degradedSinceMs":null,"reasons":[],"intervalMs":1000,"delayP99Ms":21.5,"delayMaxMs":40,"utilization":0.25,"cpuCoreRatio":0.3}}`
)

// gatewayServer answers /healthz and /readyz with the given handlers.
func gatewayServer(t *testing.T, healthz, readyz http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", healthz)
	mux.HandleFunc("/readyz", readyz)
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func answer(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

// hang accepts the request and never answers until the client gives up.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func probeOnce(t *testing.T, url string) map[string]float64 {
	t.Helper()
	p := New(targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: %s\n    state_dir: %s\n    probe_timeout: 300ms\n", url, t.TempDir())))
	p.ProbeOnce(context.Background())
	got, err := targettest.Collect(t, p)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestProbeResults(t *testing.T) {
	cases := []struct {
		name            string
		healthz, readyz http.HandlerFunc
		want            map[string]float64
		absent          []string
	}{
		{
			name: "healthy", healthz: answer(200, live), readyz: answer(200, ready),
			want: map[string]float64{
				"openclaw_gateway_up": 1, "openclaw_gateway_ready": 1, "openclaw_gateway_uptime_seconds": 12.5,
				"openclaw_gateway_event_loop_delay_p99_seconds": 0.0215, "openclaw_gateway_event_loop_delay_window_max_seconds": 0.04,
				"openclaw_gateway_event_loop_utilization_ratio": 0.25, "openclaw_gateway_event_loop_cpu_core_ratio": 0.3,
				"openclaw_gateway_event_loop_degraded":                                   0,
				"openclaw_gateway_probe_duration_seconds{endpoint=healthz}":              1,
				"openclaw_gateway_probe_failures_total{endpoint=healthz,reason=timeout}": 0,
			},
		},
		{
			name: "not ready", healthz: answer(200, live),
			readyz: answer(503, `{"ready":false,"failing":["telegram","startup-sidecars","telegram"]}`),
			want: map[string]float64{
				"openclaw_gateway_up": 1, "openclaw_gateway_ready": 0,
				"openclaw_gateway_readiness_check_failing{check=telegram}":         1,
				"openclaw_gateway_readiness_check_failing{check=startup-sidecars}": 1,
			},
			absent: []string{"openclaw_gateway_event_loop_degraded"},
		},
		{
			name: "error status", healthz: answer(500, live), readyz: answer(500, ready),
			want: map[string]float64{
				"openclaw_gateway_up": 0, "openclaw_gateway_ready": 0,
				"openclaw_gateway_probe_failures_total{endpoint=healthz,reason=status}": 1,
				"openclaw_gateway_probe_failures_total{endpoint=readyz,reason=status}":  1,
			},
		},
		{
			name: "not the gateway", healthz: answer(200, `<html>hello</html>`), readyz: answer(200, `{"ready":`),
			want: map[string]float64{
				"openclaw_gateway_up": 0, "openclaw_gateway_ready": 0,
				"openclaw_gateway_probe_failures_total{endpoint=healthz,reason=body}": 1,
				"openclaw_gateway_probe_failures_total{endpoint=readyz,reason=body}":  1,
			},
		},
		{
			name: "oversized body", healthz: answer(200, live), readyz: answer(200, `{"ready":true,"failing":[],"x":"`+strings.Repeat("a", openclaw.MaxProbeBody)+`"}`),
			want: map[string]float64{
				"openclaw_gateway_up": 1, "openclaw_gateway_ready": 0,
				"openclaw_gateway_probe_failures_total{endpoint=readyz,reason=body}": 1,
			},
		},
		{
			name: "hung", healthz: hang, readyz: hang,
			want: map[string]float64{
				"openclaw_gateway_up": 0, "openclaw_gateway_ready": 0,
				"openclaw_gateway_probe_failures_total{endpoint=healthz,reason=timeout}": 1,
				"openclaw_gateway_probe_failures_total{endpoint=readyz,reason=timeout}":  1,
				// Failed probes are no latency: the histogram stays empty.
				"openclaw_gateway_probe_duration_seconds{endpoint=healthz}": 0,
				"openclaw_gateway_probe_duration_seconds{endpoint=readyz}":  0,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := probeOnce(t, gatewayServer(t, c.healthz, c.readyz).URL)
			for k, v := range c.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
				}
			}
			for _, k := range c.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present, want absent", k)
				}
			}
		})
	}
}

func TestRefusedConnectionIsAConnectFailure(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	got := probeOnce(t, url)
	if got["openclaw_gateway_up"] != 0 || got["openclaw_gateway_probe_failures_total{endpoint=healthz,reason=connect}"] != 1 {
		t.Fatalf("got %v", got)
	}
}

// TestUpdateNeverWaitsForAProbe: a scrape during a hung probe returns the
// last results at once.
func TestUpdateNeverWaitsForAProbe(t *testing.T) {
	s := gatewayServer(t, hang, hang)
	p := New(targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: %s\n    state_dir: %s\n    probe_timeout: 1h\n    probe_interval: 1h\n", s.URL, t.TempDir())))
	p.Start()
	defer func() {
		s.CloseClientConnections()
		p.Stop()
	}()
	// The probe is now blocked for up to an hour; Update must not be.
	done := make(chan map[string]float64)
	go func() {
		got, _ := targettest.Collect(t, p)
		done <- got
	}()
	select {
	case got := <-done:
		if got["openclaw_gateway_up"] != 0 {
			t.Fatalf("up before any probe finished: %v", got)
		}
	case <-time.After(time.Minute):
		t.Fatal("Update blocked behind a hung probe")
	}
}

// TestVersionRefresh: the version is read at the first good probe, kept
// while the process and the slow interval do not change, and re-read after.
func TestVersionRefresh(t *testing.T) {
	var version atomic.Value
	version.Store("2026.9.6")
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", answer(200, live))
	mux.HandleFunc("/readyz", answer(200, ready))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html data-openclaw-control-ui-build-id="%s-release-eb377ac59e6c-2026-09-23T16-33-12.144Z" lang="en">`, version.Load())
	})
	s := httptest.NewServer(mux)
	defer s.Close()
	p := New(targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: %s\n    state_dir: %s\n", s.URL, t.TempDir())))
	info := func() string {
		t.Helper()
		p.ProbeOnce(context.Background())
		got, err := targettest.Collect(t, p)
		if err != nil {
			t.Fatal(err)
		}
		for k := range got {
			if strings.HasPrefix(k, "openclaw_gateway_info") {
				return k
			}
		}
		return ""
	}
	const v1 = "openclaw_gateway_info{build=2026.9.6-release-eb377ac59e6c-2026-09-23T16-33-12.144Z,version=2026.9.6}"
	if got := info(); got != v1 {
		t.Fatalf("first probe: %q, want %q", got, v1)
	}
	version.Store("2026.9.7")
	if got := info(); got != v1 {
		t.Fatalf("within the version interval and the same process: %q, want still %q", got, v1)
	}
	p.mu.Lock()
	p.version.at = time.Time{} // the slow interval has passed
	p.mu.Unlock()
	if got, want := info(), "openclaw_gateway_info{build=2026.9.7-release-eb377ac59e6c-2026-09-23T16-33-12.144Z,version=2026.9.7}"; got != want {
		t.Fatalf("after the version interval: %q, want %q", got, want)
	}
}

// TestVersionRetry: a discovery that failed (a gateway answering /healthz
// before its Control UI page) or that changed the version is done again
// after versionRetry, not after the whole version interval, until two in a
// row agree.
func TestVersionRetry(t *testing.T) {
	var page atomic.Value // the build id the Control UI shows; "" while it is not up
	page.Store("")
	var asked atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", answer(200, live))
	mux.HandleFunc("/readyz", answer(200, ready))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		id := page.Load().(string)
		if id == "" {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `<html data-openclaw-control-ui-build-id="%s">`, id)
	})
	s := httptest.NewServer(mux)
	defer s.Close()
	p := New(targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: %s\n    state_dir: %s\n", s.URL, t.TempDir())))
	// probe probes once, after moving the last discovery back by ago
	// (versionRetry has passed, the version interval has not).
	probe := func(ago time.Duration) (string, int32) {
		t.Helper()
		p.mu.Lock()
		p.version.at = p.version.at.Add(-ago)
		p.mu.Unlock()
		p.ProbeOnce(context.Background())
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.version.v.Version, asked.Load()
	}
	steps := []struct {
		page  string
		ago   time.Duration
		v     string
		asked int32
		why   string
	}{
		{"", 0, "", 1, "first probe, Control UI not up"},
		{"2026.9.5-release-ec9c1a13db89", 0, "", 1, "within versionRetry of the failure: no new ask"},
		{"2026.9.5-release-ec9c1a13db89", versionRetry, "2026.9.5", 2, "versionRetry after the failure"},
		{"2026.9.6-release-eb377ac59e6c", versionRetry, "2026.9.6", 3, "the first answer is checked again: changed"},
		{"2026.9.6-release-eb377ac59e6c", versionRetry, "2026.9.6", 4, "the changed answer is checked again: agrees"},
		{"2026.9.6-release-eb377ac59e6c", versionRetry, "2026.9.6", 4, "two answers agreed: settled until the interval"},
	}
	for i, st := range steps {
		page.Store(st.page)
		if v, n := probe(st.ago); v != st.v || n != st.asked {
			t.Fatalf("step %d (%s): version %q after %d asks, want %q after %d", i, st.why, v, n, st.v, st.asked)
		}
	}
}

// TestUnresponsiveSeconds: the gauge counts from the start of the first
// failed /healthz probe of a run, keeps counting across further failures,
// and is 0 again after one probe that answered.
func TestUnresponsiveSeconds(t *testing.T) {
	var failing atomic.Bool
	s := gatewayServer(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			answer(500, live)(w, r)
			return
		}
		answer(200, live)(w, r)
	}, answer(200, ready))
	p := New(targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: %s\n    state_dir: %s\n", s.URL, t.TempDir())))
	const name = "openclaw_gateway_unresponsive_seconds"
	scrape := func() float64 {
		t.Helper()
		got, err := targettest.Collect(t, p)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := got[name]
		if !ok {
			t.Fatalf("%s missing: %v", name, got)
		}
		return v
	}
	p.ProbeOnce(context.Background())
	if v := scrape(); v != 0 {
		t.Fatalf("healthy: %s = %v, want 0", name, v)
	}

	failing.Store(true)
	beforeFirst := time.Now()
	p.ProbeOnce(context.Background())
	afterFirst := time.Now()
	p.ProbeOnce(context.Background()) // a second failure must not restart the count
	before := time.Now()
	v := scrape()
	after := time.Now()
	// The count started within the first failed probe: it is at least the
	// time since that probe ended and at most the time since it began.
	if lo, hi := before.Sub(afterFirst).Seconds(), after.Sub(beforeFirst).Seconds(); v < lo || v > hi {
		t.Fatalf("after two failed probes: %s = %v, want within [%v, %v]", name, v, lo, hi)
	}

	failing.Store(false)
	p.ProbeOnce(context.Background())
	if v := scrape(); v != 0 {
		t.Fatalf("after a probe that answered: %s = %v, want 0", name, v)
	}
}
