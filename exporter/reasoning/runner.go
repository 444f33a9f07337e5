package reasoning

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/reasoning/grade"
)

// firstRunWithin bounds the random delay of the first run after a start or
// a reload: soon, but not every suite of every model at the same instant.
const firstRunWithin = 10 * time.Second

// Runner runs one job on its interval in the background, one run at a time,
// and keeps the last report for scrapes.
type Runner struct {
	Gateway, Model, Suite string
	Job                   Job
	Interval              time.Duration
	// FirstDelay bounds the random wait before the first run.
	FirstDelay time.Duration
	Logger     *slog.Logger

	failures *prometheus.CounterVec
	runs     *prometheus.CounterVec
	duration prometheus.Histogram

	mu       sync.Mutex
	last     *Report // last run that got answers
	lastRun  time.Time
	lastPass time.Time
	running  bool

	cancel context.CancelFunc
	done   chan struct{}
}

// NewRunner builds a runner with its counters initialised.
func NewRunner(gateway, model, suiteName string, job Job, interval time.Duration, logger *slog.Logger) *Runner {
	labels := prometheus.Labels{"gateway": gateway, "model": model, "suite": suiteName}
	r := &Runner{
		Gateway: gateway, Model: model, Suite: suiteName, Job: job, Interval: interval,
		FirstDelay: min(firstRunWithin, interval),
		Logger:     logger.With("model", model, "suite", suiteName),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "openclaw_reasoning_failures_total",
			Help:        "Failed reasoning tests by reason.",
			ConstLabels: labels,
		}, []string{"reason"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "openclaw_reasoning_runs_total",
			Help:        "Completed reasoning suite runs by result.",
			ConstLabels: labels,
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "openclaw_reasoning_run_duration_seconds",
			Help:        "Duration of completed reasoning suite runs.",
			Buckets:     []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600},
			ConstLabels: labels,
		}),
	}
	for _, reason := range grade.Reasons {
		r.failures.WithLabelValues(reason)
	}
	for _, result := range Results {
		r.runs.WithLabelValues(result)
	}
	return r
}

// Start runs the job soon, then every interval (with ±10% jitter) after the
// previous run started; a run longer than the interval delays the next one
// rather than overlapping it.
func (r *Runner) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		wait := time.Duration(0)
		if r.FirstDelay > 0 {
			wait = rand.N(r.FirstDelay)
		}
		for {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			start := time.Now()
			r.RunOnce(ctx)
			jittered := time.Duration(float64(r.Interval) * (0.9 + 0.2*rand.Float64()))
			wait = max(0, time.Until(start.Add(jittered)))
		}
	}()
}

// Stop ends the background runs, cancelling one in flight, and waits.
func (r *Runner) Stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
}

// RunOnce runs the job now and records the report, unless ctx was cancelled
// during the run.
func (r *Runner) RunOnce(ctx context.Context) {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	rep := Run(ctx, r.Job, func(res TestResult) {
		if !res.Passed && ctx.Err() == nil {
			r.Logger.Debug("reasoning test failed", "test", res.Test.ID, "reason", res.Reason, "detail", res.Detail)
		}
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running = false
	if ctx.Err() != nil {
		return // stopped: a partial run is no result
	}
	for _, res := range rep.Results {
		if !res.Passed {
			r.failures.WithLabelValues(res.Reason).Inc()
		}
	}
	r.runs.WithLabelValues(rep.Result).Inc()
	r.duration.Observe(rep.Duration.Seconds())
	r.lastRun = rep.Started
	if rep.Result != ResultError {
		r.last = &rep
	}
	if rep.Result == ResultPassed {
		r.lastPass = rep.Started
	}
	r.Logger.Info("reasoning suite run", "result", rep.Result, "passed", rep.Passed(), "tests", len(rep.Results),
		"pass_ratio", rep.PassRatio, "duration", rep.Duration.Round(time.Millisecond))
}
