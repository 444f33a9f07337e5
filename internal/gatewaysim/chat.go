package gatewaysim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/clawwatch/clawwatch/testdata"
)

// answerBook knows the default reasoning suite and answers it: correctly, or
// wrongly for a chosen share of its prompts when reasoning_degraded is on.
type answerBook struct {
	byPrompt map[string]suiteTest
	// rank orders the prompts by hash, so that a fail ratio r fails exactly
	// the first round(r*n) of them, the same ones on every run.
	rank map[string]int
}

type suiteTest struct {
	Prompt   string   `json:"prompt"`
	Keywords []string `json:"expected_keywords"`
}

func newAnswerBook() (*answerBook, error) {
	var suite struct {
		Tests []suiteTest `json:"tests"`
	}
	if err := json.Unmarshal(testdata.DefaultReasoningSuite, &suite); err != nil {
		return nil, fmt.Errorf("embedded reasoning suite: %w", err)
	}
	b := &answerBook{byPrompt: map[string]suiteTest{}, rank: map[string]int{}}
	prompts := make([]string, 0, len(suite.Tests))
	for _, t := range suite.Tests {
		key := strings.TrimSpace(t.Prompt)
		b.byPrompt[key] = t
		prompts = append(prompts, key)
	}
	sort.Slice(prompts, func(i, j int) bool { return promptHash(prompts[i]) < promptHash(prompts[j]) })
	for i, p := range prompts {
		b.rank[p] = i
	}
	return b, nil
}

func promptHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// fails reports whether the prompt is answered wrongly at the fail ratio.
func (b *answerBook) fails(prompt string, ratio float64) bool {
	if ratio <= 0 {
		return false
	}
	n := len(b.rank)
	if r, ok := b.rank[prompt]; ok {
		return r < int(math.Round(ratio*float64(n)))
	}
	return float64(promptHash(prompt)%1000) < ratio*1000
}

// wrongAnswers are tried in order; the first that contains none of a test's
// keywords is the degraded answer.
var wrongAnswers = []string{"Maybe.", "I am unable to say.", "42"}

// answer returns the reasoning and the final answer for a prompt.
func (b *answerBook) answer(prompt string, degraded bool) (think, final string) {
	prompt = strings.TrimSpace(prompt)
	t, known := b.byPrompt[prompt]
	if degraded {
		for _, w := range wrongAnswers {
			if !containsAny(w, t.Keywords) {
				return "Hmm. I will guess.", w
			}
		}
	}
	if !known {
		return "The question is not one I was prepared for; I answer briefly.", "I am a simulated gateway and can only answer the default reasoning suite."
	}
	return "Let me reason step by step about the question, check each step, and then answer.", strings.Join(t.Keywords, "; ")
}

func containsAny(s string, keywords []string) bool {
	s = strings.ToLower(s)
	for _, k := range keywords {
		if strings.Contains(s, strings.ToLower(k)) {
			return true
		}
	}
	return false
}

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream bool `json:"stream"`
}

// messageText accepts both content shapes: a string, or a list of parts.
func messageText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func openAIError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": typ}})
}

func (s *Sim) authorized(r *http.Request) bool {
	return s.cfg.Token == "" || r.Header.Get("Authorization") == "Bearer "+s.cfg.Token
}

func (s *Sim) serveChat(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		openAIError(w, http.StatusUnauthorized, "invalid_request_error", "missing or invalid bearer token")
		return
	}
	var req chatRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body: "+err.Error())
		return
	}
	if req.Stream {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "stream is not supported by the simulator")
		return
	}
	prompt := ""
	for _, m := range req.Messages {
		if m.Role == "user" {
			prompt = messageText(m.Content)
		}
	}
	if prompt == "" {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "messages: no user message")
		return
	}
	think, final := s.answers.answer(prompt, s.answers.fails(strings.TrimSpace(prompt), s.failRatio()))
	content := "<think>\n" + think + "\n</think>\n\n" + final
	model := req.Model
	if model == "" {
		model = "openclaw"
	}
	promptTokens, completionTokens := countTokens(prompt), countTokens(content)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      fmt.Sprintf("chatcmpl-sim-%d", time.Now().UnixNano()),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]string{"role": "assistant", "content": content},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{"prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens},
	})
}

func (s *Sim) serveModels(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		openAIError(w, http.StatusUnauthorized, "invalid_request_error", "missing or invalid bearer token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{{"id": "openclaw", "object": "model", "owned_by": "openclaw"}}})
}

// countTokens approximates a tokenizer: one token per word, one per CJK rune.
func countTokens(s string) int {
	n, inWord := 0, false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			n++
			inWord = false
		case unicode.IsSpace(r) || unicode.IsPunct(r):
			inWord = false
		case !inWord:
			n++
			inWord = true
		}
	}
	return n
}
