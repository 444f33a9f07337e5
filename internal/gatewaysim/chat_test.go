package gatewaysim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
)

// chatSim is a simulator with only what the chat handlers use.
func chatSim(t *testing.T, format string, failRatio float64) *Sim {
	t.Helper()
	b, err := newAnswerBook()
	if err != nil {
		t.Fatal(err)
	}
	s := &Sim{cfg: Config{ReasoningFormat: format}, answers: b, faults: map[string]*activeFault{}}
	if failRatio > 0 {
		s.faults[FaultReasoningDegraded] = &activeFault{Fault: Fault{Kind: FaultReasoningDegraded, FailRatio: failRatio}}
	}
	return s
}

func TestAnswerBookFailsExactShare(t *testing.T) {
	b, err := newAnswerBook()
	if err != nil {
		t.Fatal(err)
	}
	n := len(b.byPrompt)
	if n < 20 {
		t.Fatalf("default suite has %d tests, want at least 20", n)
	}
	// Graded by the exporter's own parser and grader, which the simulator
	// does not use.
	graded := map[string]*suite.Test{}
	for _, test := range suite.Default().Tests {
		graded[strings.TrimSpace(test.Prompt)] = test
	}
	for _, ratio := range []float64{0, 0.25, 0.5, 1} {
		failed := 0
		for prompt := range b.byPrompt {
			test := graded[prompt]
			if test == nil {
				t.Fatalf("the simulator knows a prompt the suite has not: %q", prompt)
			}
			_, final := b.answer(prompt, b.fails(prompt, ratio))
			if ok, _ := test.Match.Check(final); !ok {
				failed++
			}
		}
		want := int(ratio*float64(n) + 0.5)
		if failed != want {
			t.Errorf("fail ratio %v: %d of %d answers wrong, want %d", ratio, failed, n, want)
		}
	}
}

type chatReply struct {
	Choices []struct {
		Message struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
		} `json:"message"`
		Text         string `json:"text"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func post(t *testing.T, h http.HandlerFunc, body string) (int, chatReply) {
	t.Helper()
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodPost, "/v1/x", strings.NewReader(body)))
	var out chatReply
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Choices) != 1 {
			t.Fatalf("answer %s: %v", rec.Body, err)
		}
	}
	return rec.Code, out
}

func chatBody(prompt string, maxTokens int) string {
	b, _ := json.Marshal(map[string]any{"model": "qwen", "max_tokens": maxTokens,
		"messages": []map[string]string{{"role": "system", "content": "be brief"}, {"role": "user", "content": prompt}}})
	return string(b)
}

func TestChatFormats(t *testing.T) {
	test := suite.Default().Tests[6] // arith-multiply-en
	str := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return *p
	}
	cases := []struct {
		name, format string
		maxTokens    int
		content      string // prefix, or exact for "<null>"
		reasoning    string
		finish       string
	}{
		{"inline", ReasoningFormatNone, 0, "<think>\nLet me reason step by step", "<null>", "stop"},
		{"inline answer after the block", ReasoningFormatNone, 0, "", "<null>", "stop"},
		{"inline cut inside the think block", ReasoningFormatNone, 3, "<think>\nLet me reason", "<null>", "length"},
		{"deepseek", ReasoningFormatDeepSeek, 0, "391", "Let me reason step by step", "stop"},
		{"deepseek cut inside thinking", ReasoningFormatDeepSeek, 3, "<null>", "Let me reason", "length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := post(t, chatSim(t, c.format, 0).serveChat, chatBody(test.Prompt, c.maxTokens))
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			ch := out.Choices[0]
			content, reasoning := str(ch.Message.Content), str(ch.Message.ReasoningContent)
			if !strings.HasPrefix(content, c.content) || (c.content == "<null>" && content != "<null>") {
				t.Errorf("content = %q, want prefix %q", content, c.content)
			}
			if !strings.HasPrefix(reasoning, c.reasoning) || (c.reasoning == "<null>" && reasoning != "<null>") {
				t.Errorf("reasoning_content = %q, want prefix %q", reasoning, c.reasoning)
			}
			if ch.FinishReason != c.finish || out.Usage.CompletionTokens == 0 {
				t.Errorf("finish_reason %q, completion_tokens %d", ch.FinishReason, out.Usage.CompletionTokens)
			}
			if c.finish == "length" && strings.Contains(content, "</think>") {
				t.Errorf("a cut answer closed its think block: %q", content)
			}
			if c.format == ReasoningFormatNone && c.finish == "stop" && !strings.HasSuffix(content, "</think>\n\n391") {
				t.Errorf("content = %q, want the answer after the block", content)
			}
		})
	}
}

func TestCompletionsEndpoint(t *testing.T) {
	test := suite.Default().Tests[6]
	for _, c := range []struct {
		name, prompt string
		ratio        float64
		pass         bool
	}{
		{"the prompt alone", test.Prompt, 0, true},
		{"system prompt before it", "You are terse.\n\n" + test.Prompt, 0, true},
		{"degraded", test.Prompt, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"prompt": c.prompt, "max_tokens": 200})
			code, out := post(t, chatSim(t, ReasoningFormatNone, c.ratio).serveCompletions, string(body))
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			_, answer, _ := strings.Cut(out.Choices[0].Text, "</think>")
			if ok, why := test.Match.Check(answer); ok != c.pass {
				t.Errorf("answer %q passes = %v (%s), want %v", answer, ok, why, c.pass)
			}
		})
	}
	if code, _ := post(t, chatSim(t, ReasoningFormatNone, 0).serveCompletions, `{"prompt":["a"]}`); code != http.StatusBadRequest {
		t.Errorf("a list prompt: status %d, want 400", code)
	}
}

func TestTruncateTokens(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"one two three", 2, "one two"},
		{"one two", 5, "one two"},
		{"星期五 is Friday", 2, "星期"},
		{"a, b. c", 2, "a, b."},
	} {
		if got := truncateTokens(c.s, c.n); got != c.want || countTokens(got) != min(c.n, countTokens(c.s)) {
			t.Errorf("truncateTokens(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
