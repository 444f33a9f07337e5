package reasoning

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/reasoning/client"
)

// retryBackoff is the wait before the first retry of a transport failure.
const retryBackoff = time.Second

var (
	suiteLabels  = []string{"gateway", "model", "suite"}
	testLabels   = []string{"gateway", "model", "suite", "test"}
	passRatioDsc = prometheus.NewDesc("openclaw_reasoning_pass_ratio",
		"Weighted share of the tests that passed in the last run that got answers.", suiteLabels, nil)
	testPassedDesc = prometheus.NewDesc("openclaw_reasoning_test_passed",
		"1 if the test passed in the last run that got answers, else 0.", testLabels, nil)
	thinkingDesc = prometheus.NewDesc("openclaw_reasoning_test_thinking_characters",
		"Length of the model's thinking for the test in the last run, in characters.", testLabels, nil)
	tokenRateDesc = prometheus.NewDesc("openclaw_reasoning_completion_tokens_per_second",
		"Completion tokens per second of the answers in the last run.", suiteLabels, nil)
	lastRunDesc = prometheus.NewDesc("openclaw_reasoning_last_run_timestamp_seconds",
		"When the last completed run started, whatever its result.", suiteLabels, nil)
	lastPassDesc = prometheus.NewDesc("openclaw_reasoning_last_pass_timestamp_seconds",
		"When the last run in which every test passed started.", suiteLabels, nil)
	inProgressDesc = prometheus.NewDesc("openclaw_reasoning_run_in_progress",
		"1 while a run of the suite is in flight.", suiteLabels, nil)
	modelUpDesc = prometheus.NewDesc("openclaw_model_server_up",
		"1 if the last health probe of the model server got a 2xx answer in time.", []string{"gateway", "model"}, nil)
)

// Monitor is the reasoning probes of one gateway: a runner per suite of
// each model and a health prober per model server.
type Monitor struct {
	runners []*Runner
	probers []*HealthProber
}

// New builds the runners and probers for the gateway's models; it returns
// nil when the gateway has none.
func New(g *config.Gateway, logger *slog.Logger) (*Monitor, error) {
	if len(g.Models) == 0 {
		return nil, nil
	}
	m := &Monitor{}
	logger = logger.With("gateway", g.Name)
	for _, mc := range g.Models {
		hc, err := promconfig.NewClientFromConfig(mc.HTTPClientConfig(), "openclaw_exporter")
		if err != nil {
			return nil, fmt.Errorf("gateway %s: model %s: http client: %w", g.Name, mc.Name, err)
		}
		if path := *mc.HealthPath; path != "" {
			m.probers = append(m.probers, NewHealthProber(g.Name, mc.Name, mc.URL, path, hc, time.Duration(mc.HealthInterval), mc.HealthTimeout(), logger))
		}
		for _, s := range mc.Suites {
			job := Job{
				Tests:   s.Tests(),
				Client:  &client.Client{HTTP: hc, BaseURL: mc.URL, Model: mc.Model, API: mc.API, Retries: *s.Retries, Backoff: retryBackoff},
				Timeout: time.Duration(s.Timeout),
			}
			m.runners = append(m.runners, NewRunner(g.Name, mc.Name, s.Name, job, time.Duration(s.Interval), logger))
		}
	}
	return m, nil
}

// NewMonitor assembles a monitor from runners and probers built apart.
func NewMonitor(runners []*Runner, probers []*HealthProber) *Monitor {
	return &Monitor{runners: runners, probers: probers}
}

// Runners are the monitor's suite runners.
func (m *Monitor) Runners() []*Runner { return m.runners }

// Probers are the monitor's health probers.
func (m *Monitor) Probers() []*HealthProber { return m.probers }

// Start starts every runner and prober.
func (m *Monitor) Start() {
	for _, r := range m.runners {
		r.Start()
	}
	for _, p := range m.probers {
		p.Start()
	}
}

// Stop stops them and waits.
func (m *Monitor) Stop() {
	for _, r := range m.runners {
		r.Stop()
	}
	for _, p := range m.probers {
		p.Stop()
	}
}

// Quality is the "reasoning" collector: the suites' cached results.
func (m *Monitor) Quality() *Quality { return &Quality{m} }

// Health is the "model_server" collector: the health probes' results.
func (m *Monitor) Health() *Health { return &Health{m} }

// Quality serves the runners' last reports.
type Quality struct{ m *Monitor }

// Update sends the cached results; it never talks to a model.
func (q *Quality) Update(ch chan<- prometheus.Metric) error {
	for _, r := range q.m.runners {
		r.collect(ch)
	}
	return nil
}

func (r *Runner) collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	last, lastRun, lastPass, running := r.last, r.lastRun, r.lastPass, r.running
	r.mu.Unlock()
	lv := []string{r.Gateway, r.Model, r.Suite}
	gauge := func(d *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(lv[:3:3], extra...)...)
	}
	gauge(inProgressDesc, b2f(running))
	if !lastRun.IsZero() {
		gauge(lastRunDesc, unix(lastRun))
	}
	if !lastPass.IsZero() {
		gauge(lastPassDesc, unix(lastPass))
	}
	if last != nil {
		gauge(passRatioDsc, last.PassRatio)
		if last.HasTokenRate {
			gauge(tokenRateDesc, last.TokensPerSecond)
		}
		for _, res := range last.Results {
			gauge(testPassedDesc, b2f(res.Passed), res.Test.ID)
			gauge(thinkingDesc, float64(res.ThinkingChars), res.Test.ID)
		}
	}
	r.failures.Collect(ch)
	r.runs.Collect(ch)
	r.duration.Collect(ch)
}

// Health serves the probers' last results.
type Health struct{ m *Monitor }

// Update sends the cached probe results.
func (h *Health) Update(ch chan<- prometheus.Metric) error {
	for _, p := range h.m.probers {
		p.mu.Lock()
		up := p.up
		p.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(modelUpDesc, prometheus.GaugeValue, b2f(up), p.gateway, p.model)
		p.duration.Collect(ch)
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
