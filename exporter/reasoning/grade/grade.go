// Package grade separates a model's thinking from its answer and grades the
// answer against a test, with a failure reason from a fixed set.
package grade

import (
	"context"
	"errors"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
)

// Failure reasons, the values of the reason label. The set is fixed: an
// alert can name every one.
const (
	WrongAnswer    = "wrong_answer"    // an answer that fails the test's rule
	Timeout        = "timeout"         // no complete answer within the test's timeout
	HTTPError      = "http_error"      // connection failed, non-2xx status, or a body that is not a completion
	EmptyAnswer    = "empty_answer"    // nothing left once the thinking is removed
	ThinkTruncated = "think_truncated" // the thinking never ended (token limit reached inside it)
)

// Reasons lists every failure reason.
var Reasons = []string{WrongAnswer, Timeout, HTTPError, EmptyAnswer, ThinkTruncated}

const (
	openTag  = "<think>"
	closeTag = "</think>"
)

// Answer is a completion with the thinking taken out.
type Answer struct {
	// Text is what is graded: the content without think blocks, trimmed.
	Text string
	// ThinkingChars is the length of the thinking in characters (code
	// points), from think blocks and the reasoning_content field alike.
	ThinkingChars int
	// ThinkClosed is false when thinking started and never ended.
	ThinkClosed bool
}

// Split removes <think>…</think> blocks from content and counts them with
// reasoning (the reasoning_content field of servers that parse thinking out).
// A chat template that opens the block itself leaves only "</think>" in the
// output: what precedes it is thinking too. An opening tag without its close
// is thinking cut short, as is reasoning with no content when the server
// stopped for length.
func Split(content, reasoning, finishReason string) Answer {
	a := Answer{ThinkingChars: utf8.RuneCountInString(reasoning), ThinkClosed: true}
	var text strings.Builder
	rest := content
	if c, o := strings.Index(rest, closeTag), strings.Index(rest, openTag); c >= 0 && (o < 0 || c < o) {
		a.ThinkingChars += utf8.RuneCountInString(rest[:c])
		rest = rest[c+len(closeTag):]
	}
	for {
		before, after, found := strings.Cut(rest, openTag)
		text.WriteString(before)
		if !found {
			break
		}
		thinking, tail, closed := strings.Cut(after, closeTag)
		a.ThinkingChars += utf8.RuneCountInString(thinking)
		if !closed {
			a.ThinkClosed = false
			break
		}
		rest = tail
	}
	a.Text = strings.TrimSpace(text.String())
	if a.Text == "" && reasoning != "" && finishReason == "length" {
		a.ThinkClosed = false
	}
	return a
}

// Outcome is one test's result.
type Outcome struct {
	Passed bool
	// Reason is one of Reasons when the test failed.
	Reason string
	// Detail says why in words, for logs and the report.
	Detail string
	Answer
}

// Grade grades a completion's content and reasoning against the test.
func Grade(t *suite.Test, content, reasoning, finishReason string) Outcome {
	a := Split(content, reasoning, finishReason)
	o := Outcome{Answer: a}
	switch {
	case !a.ThinkClosed:
		o.Reason, o.Detail = ThinkTruncated, "the thinking did not end (finish_reason "+quote(finishReason)+"); raise max_tokens or the server's limit"
	case a.Text == "":
		o.Reason, o.Detail = EmptyAnswer, "no answer after the thinking"
	default:
		ok, why := t.Match.Check(a.Text)
		if !ok {
			o.Reason, o.Detail = WrongAnswer, why
		}
		o.Passed = ok
	}
	return o
}

// Failed is the outcome of a request that got no completion.
func Failed(err error) Outcome {
	reason := HTTPError
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		reason = Timeout
	}
	return Outcome{Reason: reason, Detail: err.Error(), Answer: Answer{ThinkClosed: true}}
}

func quote(s string) string {
	if s == "" {
		return "unset"
	}
	return `"` + s + `"`
}
