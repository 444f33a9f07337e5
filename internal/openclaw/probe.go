package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"
)

// The gateway's HTTP health endpoints, by the name the probe metrics use.
const (
	EndpointHealthz = "healthz"
	EndpointReadyz  = "readyz"
)

// Endpoints lists the endpoints HTTPProbe knows, in probe order.
var Endpoints = []string{EndpointHealthz, EndpointReadyz}

// Failure reasons of HTTPProbe, a fixed set used as a metric label.
const (
	ProbeReasonTimeout = "timeout" // no complete answer within the probe deadline
	ProbeReasonConnect = "connect" // connection refused or reset, DNS, TLS
	ProbeReasonStatus  = "status"  // an answer with an unexpected status code
	ProbeReasonBody    = "body"    // an answer whose body is not what the gateway sends
)

// ProbeReasons lists every reason a *ProbeError can carry.
var ProbeReasons = []string{ProbeReasonTimeout, ProbeReasonConnect, ProbeReasonStatus, ProbeReasonBody}

// MaxProbeBody bounds what is read of a /healthz or /readyz answer; the
// gateway's are a few hundred bytes.
const MaxProbeBody = 64 << 10

// ProbeError is the error HTTPProbe returns: Reason is one of ProbeReasons.
type ProbeError struct {
	Endpoint string
	Reason   string
	Err      error
}

func (e *ProbeError) Error() string { return fmt.Sprintf("/%s: %v", e.Endpoint, e.Err) }
func (e *ProbeError) Unwrap() error { return e.Err }

// Answer is what an endpoint answered: its status code and body, read up
// to one byte over MaxProbeBody so that an oversized body shows.
type Answer struct {
	Status int
	Body   []byte
}

// HTTPProbe asks one gateway's /healthz and /readyz, each within Timeout.
type HTTPProbe struct {
	Client *http.Client
	URL    string // base URL, without a trailing slash
	// Timeout bounds each request, so that a gateway that accepts and never
	// answers (the hang fault) costs one deadline; 0 leaves it to ctx.
	Timeout time.Duration
}

// Healthz asks /healthz: 200 with {"ok":true} is live, anything else fails.
func (p HTTPProbe) Healthz(ctx context.Context) (Healthz, error) {
	var h Healthz
	err := p.probe(ctx, EndpointHealthz, func(body []byte) error {
		if err := json.Unmarshal(body, &h); err != nil {
			return fmt.Errorf("not a liveness answer: %.100q", body)
		}
		if !h.OK {
			return fmt.Errorf("ok is false (status %q)", h.Status)
		}
		return nil
	}, http.StatusOK)
	return h, err
}

// Readyz asks /readyz: 200, or 503 while starting or with a failing check,
// each with the gateway's body. A nil error means the body decoded; whether
// the gateway is ready is Readyz.Ready.
func (p HTTPProbe) Readyz(ctx context.Context) (Readyz, error) {
	var r Readyz
	err := p.probe(ctx, EndpointReadyz, func(body []byte) error {
		r = Readyz{}
		return json.Unmarshal(body, &r)
	}, http.StatusOK, http.StatusServiceUnavailable)
	return r, err
}

// probe fetches endpoint and hands a complete body with an accepted status
// to check; every failure is a *ProbeError.
func (p HTTPProbe) probe(ctx context.Context, endpoint string, check func([]byte) error, okCodes ...int) error {
	a, err := p.Fetch(ctx, endpoint)
	fail := func(reason string, err error) error { return &ProbeError{Endpoint: endpoint, Reason: reason, Err: err} }
	switch {
	case err != nil:
		return err
	case !slices.Contains(okCodes, a.Status):
		return fail(ProbeReasonStatus, fmt.Errorf("status %d", a.Status))
	case len(a.Body) > MaxProbeBody:
		return fail(ProbeReasonBody, fmt.Errorf("body over %d bytes", MaxProbeBody))
	}
	if err := check(a.Body); err != nil {
		return fail(ProbeReasonBody, err)
	}
	return nil
}

// Fetch GETs endpoint and returns whatever status and body came back (the
// evidence before a restart records them raw); its error, a *ProbeError with
// reason timeout or connect, means no complete answer.
func (p HTTPProbe) Fetch(ctx context.Context, endpoint string) (Answer, error) {
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	fail := func(err error) (Answer, error) {
		return Answer{}, &ProbeError{Endpoint: endpoint, Reason: classify(err), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/"+endpoint, nil)
	if err != nil {
		return Answer{}, &ProbeError{Endpoint: endpoint, Reason: ProbeReasonConnect, Err: err}
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxProbeBody+1))
	if err != nil {
		return fail(err)
	}
	return Answer{Status: resp.StatusCode, Body: body}, nil
}

// classify tells a deadline from every other way of getting no answer.
func classify(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ProbeReasonTimeout
	}
	return ProbeReasonConnect
}
