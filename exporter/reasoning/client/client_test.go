package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestURL(t *testing.T) {
	for _, c := range []struct{ base, api, want string }{
		{"http://127.0.0.1:8080", Chat, "http://127.0.0.1:8080/v1/chat/completions"},
		{"http://127.0.0.1:8080/", Completions, "http://127.0.0.1:8080/v1/completions"},
		{"http://127.0.0.1:8080/v1", Chat, "http://127.0.0.1:8080/v1/chat/completions"},
		{"http://host/proxy/v1/", Completions, "http://host/proxy/v1/completions"},
	} {
		if got := (&Client{BaseURL: c.base, API: c.api}).URL(); got != c.want {
			t.Errorf("URL(%s, %s) = %s, want %s", c.base, c.api, got, c.want)
		}
	}
}

func TestRequestAndAnswerShapes(t *testing.T) {
	var got map[string]any
	var path string
	reply := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		got = nil
		_ = json.NewDecoder(r.Body).Decode(&got)
		io.WriteString(w, reply)
	}))
	defer srv.Close()
	req := Request{System: "be brief", Prompt: "17*23?", MaxTokens: 64, Temperature: 0.5}

	cases := []struct {
		name, api, reply string
		check            func(map[string]any) bool
		want             Completion
		wantErr          error
	}{
		{"chat", Chat, `{"choices":[{"message":{"role":"assistant","content":"<think>x</think>391"},"finish_reason":"stop"}],"usage":{"completion_tokens":7}}`,
			func(b map[string]any) bool {
				msgs, _ := b["messages"].([]any)
				return len(msgs) == 2 && msgs[0].(map[string]any)["role"] == "system" && msgs[1].(map[string]any)["content"] == "17*23?" &&
					b["model"] == "qwen" && b["max_tokens"] == 64.0 && b["temperature"] == 0.5 && b["stream"] == false
			},
			Completion{Content: "<think>x</think>391", FinishReason: "stop", CompletionTokens: 7, HasUsage: true}, nil},
		{"chat with reasoning_content and null content", Chat, `{"choices":[{"message":{"content":null,"reasoning_content":"thinking"},"finish_reason":"length"}]}`,
			nil, Completion{Reasoning: "thinking", FinishReason: "length"}, nil},
		{"ollama's reasoning field", Chat, `{"choices":[{"message":{"content":"391","reasoning":"17*23"},"finish_reason":"stop"}]}`,
			nil, Completion{Content: "391", Reasoning: "17*23", FinishReason: "stop"}, nil},
		{"completions", Completions, `{"choices":[{"text":"391","finish_reason":"stop"}],"usage":{"completion_tokens":1}}`,
			func(b map[string]any) bool { return b["prompt"] == "be brief\n\n17*23?" && b["messages"] == nil },
			Completion{Content: "391", FinishReason: "stop", CompletionTokens: 1, HasUsage: true}, nil},
		{"no choices", Chat, `{"choices":[]}`, nil, Completion{}, ErrBody},
		{"not JSON", Chat, `<html>`, nil, Completion{}, ErrBody},
		{"chat answer to a completions request", Completions, `{"choices":[{"message":{"content":"x"}}]}`, nil, Completion{}, ErrBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reply = c.reply
			cl := &Client{HTTP: srv.Client(), BaseURL: srv.URL, Model: "qwen", API: c.api}
			comp, err := cl.Complete(context.Background(), req)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if wantPath := map[string]string{Chat: "/v1/chat/completions", Completions: "/v1/completions"}[c.api]; path != wantPath {
				t.Errorf("path %s, want %s", path, wantPath)
			}
			if c.check != nil && !c.check(got) {
				t.Errorf("request body %v", got)
			}
			comp.Elapsed, comp.Attempts = 0, 0
			if err == nil && comp != c.want {
				t.Errorf("completion = %+v, want %+v", comp, c.want)
			}
		})
	}
}

// dropFirst closes the connection without an answer for the first n requests.
func dropFirst(n int32, calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		io.WriteString(w, `{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}]}`)
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name     string
		handler  func(*atomic.Int32) http.HandlerFunc
		retries  int
		calls    int32
		attempts int
		ok       bool
	}{
		{"transport error retried", func(c *atomic.Int32) http.HandlerFunc { return dropFirst(2, c) }, 2, 3, 3, true},
		{"retries run out", func(c *atomic.Int32) http.HandlerFunc { return dropFirst(5, c) }, 2, 3, 3, false},
		{"no retries", func(c *atomic.Int32) http.HandlerFunc { return dropFirst(1, c) }, 0, 1, 1, false},
		{"an HTTP error is an answer, not retried", func(c *atomic.Int32) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				c.Add(1)
				http.Error(w, `{"error":"loading model"}`, http.StatusServiceUnavailable)
			}
		}, 2, 1, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(c.handler(&calls))
			defer srv.Close()
			cl := &Client{HTTP: srv.Client(), BaseURL: srv.URL, API: Chat, Retries: c.retries, Backoff: time.Millisecond}
			comp, err := cl.Complete(context.Background(), Request{Prompt: "p"})
			if (err == nil) != c.ok || calls.Load() != c.calls || comp.Attempts != c.attempts {
				t.Errorf("err %v, %d calls, %d attempts; want ok=%v, %d calls, %d attempts", err, calls.Load(), comp.Attempts, c.ok, c.calls, c.attempts)
			}
		})
	}
	var se *StatusError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusUnauthorized) }))
	defer srv.Close()
	if _, err := (&Client{HTTP: srv.Client(), BaseURL: srv.URL, API: Chat}).Complete(context.Background(), Request{Prompt: "p"}); !errors.As(err, &se) || se.Code != 401 || se.Body != "nope" {
		t.Errorf("401: %v", err)
	}
}

func TestDeadlineEndsAHungRequest(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	cl := &Client{HTTP: srv.Client(), BaseURL: srv.URL, API: Chat, Retries: 3, Backoff: time.Millisecond}
	comp, err := cl.Complete(ctx, Request{Prompt: "p"})
	if !errors.Is(err, context.DeadlineExceeded) || comp.Attempts != 1 {
		t.Errorf("err = %v after %d attempts, want the deadline after 1", err, comp.Attempts)
	}
}

// TestRefusedIsFinal: a closed port is retried by default (a server that
// restarts) and answered at once with RefusedIsFinal.
func TestRefusedIsFinal(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	closed := srv.URL
	srv.Close() // nothing listens there now
	for _, final := range []bool{false, true} {
		cl := &Client{HTTP: http.DefaultClient, BaseURL: closed, API: Chat, Retries: 2, Backoff: time.Millisecond, RefusedIsFinal: final}
		comp, err := cl.Complete(context.Background(), Request{Prompt: "p"})
		want := 3
		if final {
			want = 1
		}
		if !Refused(err) || comp.Attempts != want {
			t.Errorf("RefusedIsFinal=%v: err %v after %d attempts, want refused after %d", final, err, comp.Attempts, want)
		}
	}
}
