package reasoning

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	promconfig "github.com/prometheus/common/config"

	"github.com/clawwatch/clawwatch/exporter/reasoning/client"
	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
)

// Exit codes of a one-shot run.
const (
	ExitPassed    = 0 // every test passed
	ExitFailed    = 1 // some test failed
	ExitCannotRun = 2 // bad options or suite, or no test got an answer
)

// OneShot is a suite run once from the command line.
type OneShot struct {
	SuiteFile  string // empty: the embedded default suite
	Endpoint   string
	Model      string
	API        string
	APIKeyFile string
	TLS        promconfig.TLSConfig
	Timeout    time.Duration
	Retries    int
}

// Run runs the suite, writes a line per test as it completes and a summary
// to out, and returns the exit code; problems that stop the run go to errOut.
func (o OneShot) Run(ctx context.Context, out, errOut io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(errOut, "reasoning run: "+format+"\n", args...)
		return ExitCannotRun
	}
	tests := suite.Default()
	if o.SuiteFile != "" {
		var err error
		if tests, err = suite.Load(o.SuiteFile); err != nil {
			return fail("%v", err)
		}
	}
	if o.API != client.Chat && o.API != client.Completions {
		return fail("--api: %q is not chat or completions", o.API)
	}
	hcc := promconfig.DefaultHTTPClientConfig
	hcc.TLSConfig = o.TLS
	if o.APIKeyFile != "" {
		hcc.Authorization = &promconfig.Authorization{Type: "Bearer", CredentialsFile: o.APIKeyFile}
	}
	if err := hcc.Validate(); err != nil {
		return fail("%v", err)
	}
	hc, err := promconfig.NewClientFromConfig(hcc, "openclaw_exporter")
	if err != nil {
		return fail("http client: %v", err)
	}
	cl := &client.Client{HTTP: hc, BaseURL: o.Endpoint, Model: o.Model, API: o.API, Retries: o.Retries, Backoff: retryBackoff,
		RefusedIsFinal: true}
	w := newReportWriter(out, tests)
	fmt.Fprintf(out, "%d tests against %s (model %q)\n\n", len(tests.Tests), cl.URL(), o.Model)
	// A refused connection ends the run at once: nothing listens, and every
	// further test would be refused the same way.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var refused error
	rep := Run(runCtx, Job{Tests: tests, Client: cl, Timeout: o.Timeout}, func(r TestResult) {
		w.test(r)
		if refused == nil && client.Refused(r.Err) {
			refused = r.Err
			cancel()
		}
	})
	if ctx.Err() != nil {
		return fail("interrupted")
	}
	if refused != nil {
		return fail("cannot connect to %s (is the model server running?): %v", cl.URL(), refused)
	}
	w.summary(rep)
	switch rep.Result {
	case ResultPassed:
		return ExitPassed
	case ResultFailed:
		return ExitFailed
	}
	return ExitCannotRun
}

// reportWriter prints aligned lines without waiting for the whole run.
type reportWriter struct {
	out        io.Writer
	idW, typeW int
}

func newReportWriter(out io.Writer, s *suite.Suite) *reportWriter {
	w := &reportWriter{out: out, idW: 4, typeW: 4}
	for _, t := range s.Tests {
		w.idW = max(w.idW, utf8.RuneCountInString(t.ID))
		w.typeW = max(w.typeW, utf8.RuneCountInString(t.Type))
	}
	return w
}

func (w *reportWriter) test(r TestResult) {
	status := "PASS"
	if !r.Passed {
		status = "FAIL"
	}
	think := "no thinking"
	switch {
	case !r.ThinkClosed:
		think = fmt.Sprintf("thought %d chars, unfinished", r.ThinkingChars)
	case r.ThinkingChars > 0:
		think = fmt.Sprintf("thought %d chars", r.ThinkingChars)
	}
	fmt.Fprintf(w.out, "%s  %-*s  %-*s  %6.1fs  %-28s  %s\n", status, w.idW, r.Test.ID, w.typeW, r.Test.Type,
		r.Elapsed.Seconds(), think, quoteShort(r.Text, 60))
	if !r.Passed {
		fmt.Fprintf(w.out, "      %s: %s\n", r.Reason, r.Detail)
	}
}

func (w *reportWriter) summary(rep Report) {
	fmt.Fprintf(w.out, "\n%s: %d of %d passed, pass ratio %.3f (weighted), %s", rep.Result, rep.Passed(), len(rep.Results),
		rep.PassRatio, rep.Duration.Round(time.Millisecond))
	if rep.HasTokenRate {
		fmt.Fprintf(w.out, ", %.1f completion tokens/s", rep.TokensPerSecond)
	}
	fmt.Fprintln(w.out)
}

// quoteShort quotes an answer on one line, cut to n characters.
func quoteShort(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) > n {
		return `"` + string(r[:n]) + `…"`
	}
	return `"` + string(r) + `"`
}
