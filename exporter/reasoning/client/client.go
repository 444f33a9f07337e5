// Package client asks an OpenAI-compatible model server (llama.cpp, vLLM,
// Ollama, or the OpenClaw gateway itself) for one completion, through
// /v1/chat/completions or the legacy /v1/completions.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// APIs.
const (
	Chat        = "chat"
	Completions = "completions"
)

// maxBody bounds what is read of an answer: a long think block is a few
// hundred KiB at most.
const maxBody = 8 << 20

// Client is one model on one server.
type Client struct {
	HTTP *http.Client
	// BaseURL is the server's root; /v1/chat/completions or /v1/completions
	// is appended, without a second /v1 when BaseURL ends with one.
	BaseURL string
	Model   string // the request's model field
	API     string // Chat or Completions
	// Retries is how many times a request that failed in transport
	// (connection refused or reset, no answer) is sent again.
	Retries int
	// Backoff is the wait before the first retry; it doubles after each.
	Backoff time.Duration
	// RefusedIsFinal: a refused connection is not retried. For a run from
	// the command line, where nothing listening is an answer to give at
	// once; the background runner retries, as a server restarts.
	RefusedIsFinal bool
}

// Request is one prompt.
type Request struct {
	System      string
	Prompt      string
	MaxTokens   int
	Temperature float64
}

// Completion is a server's answer.
type Completion struct {
	Content string
	// Reasoning is reasoning_content (vLLM, llama.cpp, DeepSeek) or
	// reasoning (Ollama), for servers that parse the thinking out.
	Reasoning    string
	FinishReason string
	// CompletionTokens is usage.completion_tokens; HasUsage says whether
	// the server reported it.
	CompletionTokens int
	HasUsage         bool
	// Elapsed is the duration of the request that answered.
	Elapsed  time.Duration
	Attempts int
}

// StatusError is an answer with a status other than 200.
type StatusError struct {
	Code int
	Body string // the start of the body, for the log
}

func (e *StatusError) Error() string { return fmt.Sprintf("status %d: %s", e.Code, e.Body) }

// ErrBody marks an answer that is not a completion.
var ErrBody = errors.New("not a completion")

// URL is the endpoint the client posts to.
func (c *Client) URL() string {
	base := strings.TrimRight(c.BaseURL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	if c.API == Completions {
		return base + "/completions"
	}
	return base + "/chat/completions"
}

// Complete sends the request, retrying transport failures with backoff
// within ctx's deadline: the caller's deadline bounds every attempt together.
func (c *Client) Complete(ctx context.Context, r Request) (Completion, error) {
	body, err := json.Marshal(c.body(r))
	if err != nil {
		return Completion{}, fmt.Errorf("encode request: %w", err)
	}
	wait := c.Backoff
	for attempt := 1; ; attempt++ {
		comp, err := c.post(ctx, body)
		comp.Attempts = attempt
		if err == nil || attempt > c.Retries || !transportError(ctx, err) || (c.RefusedIsFinal && Refused(err)) {
			return comp, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return comp, fmt.Errorf("%w (after %d attempts, last: %v)", ctx.Err(), attempt, err)
		case <-t.C:
		}
		wait *= 2
	}
}

func (c *Client) body(r Request) map[string]any {
	b := map[string]any{"model": c.Model, "max_tokens": r.MaxTokens, "temperature": r.Temperature, "stream": false}
	if c.API == Completions {
		prompt := r.Prompt
		if r.System != "" {
			prompt = r.System + "\n\n" + r.Prompt
		}
		b["prompt"] = prompt
		return b
	}
	var msgs []map[string]string
	if r.System != "" {
		msgs = append(msgs, map[string]string{"role": "system", "content": r.System})
	}
	b["messages"] = append(msgs, map[string]string{"role": "user", "content": r.Prompt})
	return b
}

// Refused says whether err is a refused connection: nothing listens at the
// server's address.
func Refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// transportError is a failure to get any answer that is worth another try:
// not a timeout (the deadline is spent) and not an HTTP answer.
func transportError(ctx context.Context, err error) bool {
	var se *StatusError
	var ne net.Error
	switch {
	case ctx.Err() != nil, errors.As(err, &se), errors.Is(err, ErrBody):
		return false
	case errors.As(err, &ne) && ne.Timeout():
		return false
	}
	return true
}

type answer struct {
	Choices []struct {
		Message *struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
			Reasoning        *string `json:"reasoning"`
		} `json:"message"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func (c *Client) post(ctx context.Context, body []byte) (Completion, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(), bytes.NewReader(body))
	if err != nil {
		return Completion{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Completion{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	elapsed := time.Since(start)
	if err != nil {
		return Completion{}, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Completion{}, &StatusError{Code: resp.StatusCode, Body: excerpt(data)}
	}
	if len(data) > maxBody {
		return Completion{}, fmt.Errorf("%w: body over %d bytes", ErrBody, maxBody)
	}
	var a answer
	if err := json.Unmarshal(data, &a); err != nil {
		return Completion{}, fmt.Errorf("%w: %v: %s", ErrBody, err, excerpt(data))
	}
	if len(a.Choices) == 0 {
		return Completion{}, fmt.Errorf("%w: no choices: %s", ErrBody, excerpt(data))
	}
	ch := a.Choices[0]
	comp := Completion{Elapsed: elapsed, FinishReason: str(ch.FinishReason)}
	switch {
	case c.API == Completions && ch.Text != nil:
		comp.Content = *ch.Text
	case c.API == Chat && ch.Message != nil:
		comp.Content = str(ch.Message.Content)
		comp.Reasoning = str(ch.Message.ReasoningContent)
		if comp.Reasoning == "" {
			comp.Reasoning = str(ch.Message.Reasoning)
		}
	default:
		field := "message"
		if c.API == Completions {
			field = "text"
		}
		return Completion{}, fmt.Errorf("%w: choices[0] has no %s: %s", ErrBody, field, excerpt(data))
	}
	if a.Usage != nil {
		comp.CompletionTokens, comp.HasUsage = a.Usage.CompletionTokens, true
	}
	return comp, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// excerpt is the start of a body on one line, for error messages.
func excerpt(b []byte) string {
	const n = 200
	r := []rune(strings.Join(strings.Fields(string(b)), " "))
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}
