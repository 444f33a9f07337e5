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
	byPrompt map[string]*referenceTest
	// rank orders the prompts by hash, so that a fail ratio r fails exactly
	// the first round(r*n) of them, the same ones on every run.
	rank map[string]int
}

// referenceTest is what the simulator reads of a suite test, with its own
// small struct and not the exporter's parser or grader: the exporter is what
// the simulator's answers test, so it must not lean on it.
type referenceTest struct {
	Prompt           string   `json:"prompt"`
	ExpectedKeywords []string `json:"expected_keywords"`
	Match            struct {
		Any []string `json:"any"`
	} `json:"match"`
	ReferenceAnswer string `json:"reference_answer"`
}

// keywords are the substrings a right answer contains, in the seed's
// spelling or the richer one.
func (t *referenceTest) keywords() []string {
	if t.ExpectedKeywords != nil {
		return t.ExpectedKeywords
	}
	return t.Match.Any
}

func newAnswerBook() (*answerBook, error) {
	var st struct {
		Tests []*referenceTest `json:"tests"`
	}
	if err := json.Unmarshal(testdata.DefaultReasoningSuite, &st); err != nil {
		return nil, fmt.Errorf("embedded reasoning suite: %w", err)
	}
	b := &answerBook{byPrompt: map[string]*referenceTest{}, rank: map[string]int{}}
	prompts := make([]string, 0, len(st.Tests))
	for i, t := range st.Tests {
		key := strings.TrimSpace(t.Prompt)
		if key == "" || (t.ReferenceAnswer == "" && len(t.keywords()) == 0) {
			return nil, fmt.Errorf("embedded reasoning suite: tests[%d]: no prompt, or neither reference_answer nor keywords", i)
		}
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

// lookup finds the suite prompt a request asks. A completions request
// carries the system prompt and the question in one text, so a known prompt
// at its end counts too.
func (b *answerBook) lookup(prompt string) string {
	prompt = strings.TrimSpace(prompt)
	if _, ok := b.byPrompt[prompt]; ok {
		return prompt
	}
	for p := range b.byPrompt {
		if strings.HasSuffix(prompt, p) {
			return p
		}
	}
	return prompt
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

// wrongAnswers are tried in order; the first that shares nothing with the
// test's right answer is the degraded answer.
var wrongAnswers = []string{"Maybe.", "I am unable to say.", "42"}

// answer returns the reasoning and the final answer for a prompt found by
// lookup.
func (b *answerBook) answer(prompt string, degraded bool) (think, final string) {
	t, known := b.byPrompt[prompt]
	if degraded {
		for _, w := range wrongAnswers {
			if !known || !t.resembles(w) {
				return "Hmm. I will guess.", w
			}
		}
	}
	if !known {
		return "The question is not one I was prepared for; I answer briefly.", "I am a simulated gateway and can only answer the default reasoning suite."
	}
	final = t.ReferenceAnswer
	if final == "" {
		final = strings.Join(t.keywords(), "; ")
	}
	return "Let me reason step by step about the question, check each step of the argument, and only then give the answer.", final
}

// resembles says whether answer contains, or is contained in, the reference
// answer or a keyword, ignoring case: such an answer might pass.
func (t *referenceTest) resembles(answer string) bool {
	a := strings.ToLower(answer)
	for _, r := range append([]string{t.ReferenceAnswer}, t.keywords()...) {
		if r = strings.ToLower(r); r != "" && (strings.Contains(a, r) || strings.Contains(r, a)) {
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
	Stream    bool `json:"stream"`
	MaxTokens int  `json:"max_tokens"`
}

type completionRequest struct {
	Model     string `json:"model"`
	Prompt    any    `json:"prompt"`
	Stream    bool   `json:"stream"`
	MaxTokens int    `json:"max_tokens"`
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

// Reasoning formats: where the thinking goes in a chat answer, as llama.cpp's
// --reasoning-format names them.
const (
	ReasoningFormatNone     = "none"     // inline, <think>…</think> first in content
	ReasoningFormatDeepSeek = "deepseek" // in message.reasoning_content
)

// generation is an answer as the model would produce it, cut at max_tokens.
type generation struct {
	think, final string
	// truncated is true when max_tokens ended it, thinking included.
	truncated bool
}

// generate answers a prompt and applies the token limit to the thinking and
// the answer in that order, as a model writes them.
func (s *Sim) generate(prompt string, maxTokens int) generation {
	key := s.answers.lookup(prompt)
	think, final := s.answers.answer(key, s.answers.fails(key, s.failRatio()))
	g := generation{think: think, final: final}
	if maxTokens <= 0 {
		return g
	}
	if n := countTokens(think); n >= maxTokens {
		return generation{think: truncateTokens(think, maxTokens), truncated: true}
	} else if countTokens(final) > maxTokens-n {
		g.final, g.truncated = truncateTokens(final, maxTokens-n), true
	}
	return g
}

// inline writes a generation the way a model without a reasoning parser
// does: the think block first, unterminated when the limit struck inside it.
func (g generation) inline() string {
	if g.truncated && g.final == "" {
		return "<think>\n" + g.think
	}
	return "<think>\n" + g.think + "\n</think>\n\n" + g.final
}

func (g generation) finishReason() string {
	if g.truncated {
		return "length"
	}
	return "stop"
}

func (s *Sim) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if !s.authorized(r) {
		openAIError(w, http.StatusUnauthorized, "invalid_request_error", "missing or invalid bearer token")
		return false
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func (s *Sim) serveChat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if !s.decode(w, r, &req) {
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
	g := s.generate(prompt, req.MaxTokens)
	message := map[string]any{"role": "assistant", "content": g.inline()}
	completion := g.inline()
	if s.cfg.ReasoningFormat == ReasoningFormatDeepSeek {
		// vLLM and llama.cpp with a reasoning parser: content is null while
		// the model is still thinking.
		message["reasoning_content"], message["content"] = g.think, nil
		if g.final != "" || !g.truncated {
			message["content"] = g.final
		}
		completion = g.think + g.final
	}
	promptTokens, completionTokens := countTokens(prompt), countTokens(completion)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      fmt.Sprintf("chatcmpl-sim-%d", time.Now().UnixNano()),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   modelName(req.Model),
		"choices": []map[string]any{{
			"index":         0,
			"message":       message,
			"finish_reason": g.finishReason(),
		}},
		"usage": map[string]int{"prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens},
	})
}

// serveCompletions is the legacy text completion endpoint that some model
// servers offer alone; the seed's script used it.
func (s *Sim) serveCompletions(w http.ResponseWriter, r *http.Request) {
	var req completionRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Stream {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "stream is not supported by the simulator")
		return
	}
	prompt, ok := req.Prompt.(string)
	if !ok || prompt == "" {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "prompt: want a non-empty string")
		return
	}
	g := s.generate(prompt, req.MaxTokens)
	text := g.inline()
	promptTokens, completionTokens := countTokens(prompt), countTokens(text)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      fmt.Sprintf("cmpl-sim-%d", time.Now().UnixNano()),
		"object":  "text_completion",
		"created": time.Now().Unix(),
		"model":   modelName(req.Model),
		"choices": []map[string]any{{"index": 0, "text": text, "finish_reason": g.finishReason()}},
		"usage":   map[string]int{"prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens},
	})
}

func modelName(m string) string {
	if m == "" {
		return "openclaw"
	}
	return m
}

func (s *Sim) serveModels(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		openAIError(w, http.StatusUnauthorized, "invalid_request_error", "missing or invalid bearer token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{{"id": "openclaw", "object": "model", "owned_by": "openclaw"}}})
}

// truncateTokens keeps the first n tokens of s as countTokens counts them.
func truncateTokens(s string, n int) string {
	count, inWord := 0, false
	for i, r := range s {
		starts := false
		switch {
		case unicode.Is(unicode.Han, r):
			starts, inWord = true, false
		case unicode.IsSpace(r) || unicode.IsPunct(r):
			inWord = false
		case !inWord:
			starts, inWord = true, true
		}
		if starts {
			if count == n {
				return strings.TrimRightFunc(s[:i], unicode.IsSpace)
			}
			count++
		}
	}
	return s
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
