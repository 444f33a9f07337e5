package openclaw

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	probeLive  = `{"ok":true,"status":"live"}`
	probeReady = `{"ready":true,"failing":[],"uptimeMs":12500}`
)

func answerWith(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

// TestHTTPProbe holds each endpoint's protocol: the accepted status codes,
// the body, the size cap, and the reason of every failure.
func TestHTTPProbe(t *testing.T) {
	cases := []struct {
		name            string
		healthz, readyz http.HandlerFunc
		// "" is success; otherwise the *ProbeError's reason.
		healthzReason, readyzReason string
		ready                       bool
	}{
		{name: "healthy", healthz: answerWith(200, probeLive), readyz: answerWith(200, probeReady), ready: true},
		{name: "starting: 503 with a body is an answer", healthz: answerWith(200, probeLive),
			readyz: answerWith(503, `{"ready":false,"failing":["startup-sidecars"]}`)},
		{name: "error status", healthz: answerWith(500, probeLive), readyz: answerWith(500, probeReady),
			healthzReason: ProbeReasonStatus, readyzReason: ProbeReasonStatus},
		{name: "503 is no liveness answer", healthz: answerWith(503, probeLive), readyz: answerWith(404, probeReady),
			healthzReason: ProbeReasonStatus, readyzReason: ProbeReasonStatus},
		{name: "not the gateway's body", healthz: answerWith(200, `<html>`), readyz: answerWith(200, `<html>`),
			healthzReason: ProbeReasonBody, readyzReason: ProbeReasonBody},
		{name: "ok false", healthz: answerWith(200, `{"ok":false}`), readyz: answerWith(200, probeReady),
			healthzReason: ProbeReasonBody, ready: true},
		{name: "oversized body", healthz: answerWith(200, probeLive),
			readyz:       answerWith(200, `{"ready":true,"failing":[],"x":"`+strings.Repeat("a", MaxProbeBody)+`"}`),
			readyzReason: ProbeReasonBody},
		{name: "hung", healthz: func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			readyz:        func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			healthzReason: ProbeReasonTimeout, readyzReason: ProbeReasonTimeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("/healthz", c.healthz)
			mux.HandleFunc("/readyz", c.readyz)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			p := HTTPProbe{Client: srv.Client(), URL: srv.URL, Timeout: 200 * time.Millisecond}

			h, err := p.Healthz(context.Background())
			checkReason(t, EndpointHealthz, err, c.healthzReason)
			if err == nil && !h.OK {
				t.Errorf("healthz: %+v without an error", h)
			}
			r, err := p.Readyz(context.Background())
			checkReason(t, EndpointReadyz, err, c.readyzReason)
			if err == nil && r.Ready != c.ready {
				t.Errorf("readyz: ready %v, want %v", r.Ready, c.ready)
			}
		})
	}
}

func TestHTTPProbeRefusedIsConnect(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p := HTTPProbe{Client: http.DefaultClient, URL: url, Timeout: time.Second}
	_, err := p.Healthz(context.Background())
	checkReason(t, EndpointHealthz, err, ProbeReasonConnect)
	a, err := p.Fetch(context.Background(), EndpointReadyz)
	checkReason(t, EndpointReadyz, err, ProbeReasonConnect)
	if a.Status != 0 {
		t.Errorf("no answer, but status %d", a.Status)
	}
}

// TestHTTPProbeFetchKeepsAnyAnswer: Fetch returns what came back whatever
// its status, for the evidence before a restart.
func TestHTTPProbeFetchKeepsAnyAnswer(t *testing.T) {
	srv := httptest.NewServer(answerWith(500, "boom"))
	defer srv.Close()
	a, err := HTTPProbe{Client: srv.Client(), URL: srv.URL}.Fetch(context.Background(), EndpointHealthz)
	if err != nil || a.Status != 500 || string(a.Body) != "boom" {
		t.Fatalf("Fetch = %d %q, %v", a.Status, a.Body, err)
	}
}

func checkReason(t *testing.T, endpoint string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s: %v, want success", endpoint, err)
		}
		return
	}
	var pe *ProbeError
	if !errors.As(err, &pe) || pe.Reason != want || pe.Endpoint != endpoint {
		t.Errorf("%s: %v, want a %s failure", endpoint, err, want)
		return
	}
	if !strings.HasPrefix(err.Error(), "/"+endpoint+": ") {
		t.Errorf("%s: error %q does not name the endpoint", endpoint, err)
	}
}
