package reasoning

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HealthProber probes a model server's health endpoint (llama.cpp and vLLM
// /health, Ollama /) on its own interval, so that "model down" and "model
// degraded" are told apart.
type HealthProber struct {
	gateway, model string

	URL      string
	HTTP     *http.Client
	Interval time.Duration
	Timeout  time.Duration
	Logger   *slog.Logger

	duration prometheus.Histogram

	mu sync.Mutex
	up bool

	cancel context.CancelFunc
	done   chan struct{}
}

// NewHealthProber probes baseURL+path; a base URL ending in /v1 has it
// removed, since health endpoints live at the server's root.
func NewHealthProber(gateway, model, baseURL, path string, hc *http.Client, interval, timeout time.Duration, logger *slog.Logger) *HealthProber {
	return &HealthProber{
		gateway: gateway, model: model,
		URL:  strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1") + path,
		HTTP: hc, Interval: interval, Timeout: timeout, Logger: logger.With("model", model),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "openclaw_model_server_probe_duration_seconds",
			Help:        "Duration of model server health probes, failed ones included.",
			Buckets:     []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
			ConstLabels: prometheus.Labels{"gateway": gateway, "model": model},
		}),
	}
}

// Start probes at once and then every interval until Stop.
func (h *HealthProber) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		t := time.NewTicker(h.Interval)
		defer t.Stop()
		for {
			h.ProbeOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the probes and waits.
func (h *HealthProber) Stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
}

// ProbeOnce probes once; a 2xx answer within the timeout is up (llama.cpp
// answers 503 while it loads the model).
func (h *HealthProber) ProbeOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	start := time.Now()
	err := h.get(ctx)
	if ctx.Err() != nil && ctx.Err() != context.DeadlineExceeded {
		return // stopping
	}
	h.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		h.Logger.Debug("model server health probe failed", "url", h.URL, "err", err)
	}
	h.mu.Lock()
	h.up = err == nil
	h.mu.Unlock()
}

func (h *HealthProber) get(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return err
	}
	resp, err := h.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
