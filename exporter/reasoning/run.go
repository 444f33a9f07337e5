// Package reasoning checks that a gateway's model still thinks well: it runs
// reasoning suites against OpenAI-compatible model servers in the background,
// probes the servers' health, and serves the cached results at scrape time.
// It also runs a suite once for the command line.
package reasoning

import (
	"context"
	"time"

	"github.com/clawwatch/clawwatch/exporter/reasoning/client"
	"github.com/clawwatch/clawwatch/exporter/reasoning/grade"
	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
)

// Run results, the values of the result label.
const (
	ResultPassed = "passed" // every test passed
	ResultFailed = "failed" // some test failed
	ResultError  = "error"  // no test got an answer: the run says nothing about quality
)

// Results lists every run result.
var Results = []string{ResultPassed, ResultFailed, ResultError}

// Job is a suite against a model.
type Job struct {
	Tests  *suite.Suite
	Client *client.Client
	// Timeout is the per-test default; a test's own timeout wins.
	Timeout time.Duration
}

// TestResult is one test of a run.
type TestResult struct {
	Test *suite.Test
	grade.Outcome
	Elapsed time.Duration
	client.Completion
	// Err is why no answer came; nil when one did.
	Err error
}

// Report is one run of a suite.
type Report struct {
	Started  time.Time
	Duration time.Duration
	Results  []TestResult
	// PassRatio is the weighted share of tests that passed.
	PassRatio float64
	Result    string
	// TokensPerSecond is the completion tokens over the request time of
	// the answers that reported usage; HasTokenRate says whether any did.
	TokensPerSecond float64
	HasTokenRate    bool
}

// Passed counts the tests that passed.
func (r *Report) Passed() int {
	n := 0
	for _, t := range r.Results {
		if t.Passed {
			n++
		}
	}
	return n
}

// Run runs every test of the job one after the other (a local model server
// usually has one slot) and calls done after each. A cancelled ctx ends the
// run early; the caller discards that report.
func Run(ctx context.Context, job Job, done func(TestResult)) Report {
	rep := Report{Started: time.Now()}
	var weight, passed, tokens float64
	var genTime time.Duration
	answered := false
	for _, t := range job.Tests.Tests {
		if ctx.Err() != nil {
			break
		}
		res := runTest(ctx, job, t)
		rep.Results = append(rep.Results, res)
		weight += t.Weight
		if res.Passed {
			passed += t.Weight
		}
		if res.Reason != grade.Timeout && res.Reason != grade.HTTPError {
			answered = true
		}
		if res.HasUsage && res.Completion.Elapsed > 0 {
			tokens += float64(res.CompletionTokens)
			genTime += res.Completion.Elapsed
		}
		if done != nil {
			done(res)
		}
	}
	rep.Duration = time.Since(rep.Started)
	if weight > 0 {
		rep.PassRatio = passed / weight
	}
	switch {
	case !answered:
		rep.Result = ResultError
	case rep.Passed() == len(rep.Results):
		rep.Result = ResultPassed
	default:
		rep.Result = ResultFailed
	}
	if genTime > 0 {
		rep.TokensPerSecond, rep.HasTokenRate = tokens/genTime.Seconds(), true
	}
	return rep
}

func runTest(ctx context.Context, job Job, t *suite.Test) TestResult {
	timeout := job.Timeout
	if t.Timeout > 0 {
		timeout = t.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	comp, err := job.Client.Complete(ctx, client.Request{System: t.System, Prompt: t.Prompt, MaxTokens: t.MaxTokens, Temperature: t.Temperature})
	res := TestResult{Test: t, Elapsed: time.Since(start), Completion: comp}
	if err != nil {
		res.Err = err
		res.Outcome = grade.Failed(err)
		return res
	}
	res.Outcome = grade.Grade(t, comp.Content, comp.Reasoning, comp.FinishReason)
	return res
}
