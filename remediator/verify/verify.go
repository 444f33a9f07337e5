// Package verify decides whether a gateway is healthy after an action: its
// /healthz says ok, its /readyz says ready and, for a gateway with a token,
// its RPC answers the health call, probed until all hold or the deadline
// passes: openclaw.HTTPProbe and openclaw.ProbeHealth, the exporter's probes
// too. /healthz alone can answer while every real request hangs.
package verify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// ProbeTimeout bounds one probe: a gateway that accepts and never answers
// (the hang fault) must not stall verification.
const ProbeTimeout = 3 * time.Second

// Prober checks one gateway.
type Prober struct {
	Client *http.Client
	URL    string // base URL, without a trailing slash
	// RPCAddr and Token: with a token the RPC probe must succeed too.
	RPCAddr, Token string
}

// Once probes /healthz, then /readyz, then the RPC when there is a token.
func (p Prober) Once(ctx context.Context) error {
	hp := openclaw.HTTPProbe{Client: p.Client, URL: p.URL, Timeout: ProbeTimeout}
	if _, err := hp.Healthz(ctx); err != nil {
		return err
	}
	r, err := hp.Readyz(ctx)
	if err != nil {
		return err
	}
	if !r.Ready {
		return fmt.Errorf("/readyz: not ready, failing %v", r.Failing)
	}
	if p.Token == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	if _, _, err := openclaw.ProbeHealth(ctx, p.RPCAddr, p.Token); err != nil {
		return fmt.Errorf("/healthz and /readyz fine, but %w", err)
	}
	return nil
}

// Until probes every interval until the gateway is healthy or timeout
// passes; the error carries the last failure.
func Until(ctx context.Context, p Prober, timeout, interval time.Duration) (string, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	probes := 0
	for {
		probes++
		err := p.Once(ctx)
		if err == nil {
			rpc := ""
			if p.Token != "" {
				rpc = ", the health RPC answering too"
			}
			return fmt.Sprintf("healthy after %s (%d probes%s)", time.Since(start).Round(time.Millisecond), probes, rpc), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("not healthy within %s after %d probes: %w", timeout, probes, err)
		case <-tick.C:
		}
	}
}

// VersionTimeout bounds asking the gateway which version it runs.
const VersionTimeout = 5 * time.Second

// Runs is the one rule for "healthy and runs want", after an action that
// installed a version (a rollback) and after an upgrade's update: got and
// err are the answer to which version the healthy gateway runs. A version
// that cannot be read fails it as a different one does: healthy is not
// enough, since an updater that returned before it restarted the gateway
// leaves the old version answering.
func Runs(got string, err error, want string) error {
	switch {
	case err != nil:
		return fmt.Errorf("healthy, but the running version is not discoverable: %w", err)
	case got != want:
		return fmt.Errorf("healthy, but the gateway runs %s, not %s", got, want)
	}
	return nil
}
