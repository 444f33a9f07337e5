// Package suite reads reasoning test suites and grades an answer against a
// test's rule. The format is the seed's {"tests":[{"type","prompt",
// "expected_keywords"}]}, which stays valid as is, extended per test with an
// id, a richer match rule, request settings and a weight.
package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/testdata"
)

// DefaultMaxTokens leaves a reasoning model room to think before it answers;
// the seed's 200 would cut most think blocks short.
const DefaultMaxTokens = 2048

// maxFileBytes bounds a suite file: suites are hand-written.
const maxFileBytes = 4 << 20

// Suite is a list of tests.
type Suite struct {
	Tests []*Test
}

// Test is one prompt and the rule its answer is graded by.
type Test struct {
	ID     string
	Type   string
	Prompt string
	// System is an optional system prompt.
	System      string
	MaxTokens   int
	Temperature float64
	// Timeout overrides the suite's per-test timeout when not zero.
	Timeout time.Duration
	Weight  float64
	Match   Match
	// Reference is an answer that passes; the loader proves it does, so a
	// rule that rejects its own correct answer is caught at load.
	Reference string
}

// Match is a test's grading rule. Every part that is set must hold.
type Match struct {
	Any       []string // at least one of these substrings
	All       []string // every one of these substrings
	Regex     []*regexp.Regexp
	Forbidden []string // none of these substrings
	// CaseSensitive and WidthSensitive turn off the folding of case and of
	// Unicode compatibility forms (full-width Ａ１, ideographic space) that
	// is applied to the answer and to the keywords alike.
	CaseSensitive  bool
	WidthSensitive bool
}

// fileTest is a test as written in the file.
type fileTest struct {
	ID               string    `json:"id"`
	Type             string    `json:"type"`
	Prompt           string    `json:"prompt"`
	System           string    `json:"system"`
	ExpectedKeywords []string  `json:"expected_keywords"`
	Match            *fileRule `json:"match"`
	MaxTokens        *int      `json:"max_tokens"`
	Temperature      *float64  `json:"temperature"`
	Timeout          string    `json:"timeout"`
	Weight           *float64  `json:"weight"`
	ReferenceAnswer  *string   `json:"reference_answer"`
}

type fileRule struct {
	Any            []string `json:"any"`
	All            []string `json:"all"`
	Regex          []string `json:"regex"`
	Forbidden      []string `json:"forbidden"`
	CaseSensitive  bool     `json:"case_sensitive"`
	WidthSensitive bool     `json:"width_sensitive"`
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// Default is the embedded default suite.
func Default() *Suite {
	s, err := Parse(testdata.DefaultReasoningSuite)
	if err != nil {
		panic(fmt.Sprintf("embedded default reasoning suite: %v", err)) // a test holds it valid
	}
	return s
}

// Load reads a suite file; errors name the file, the test index and the field.
func Load(path string) (*Suite, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read suite: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read suite %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("suite %s: larger than %d bytes", path, maxFileBytes)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", path, err)
	}
	return s, nil
}

// Parse decodes and validates a suite. Unknown fields are errors, so that a
// misspelt rule never silently grades nothing.
func Parse(data []byte) (*Suite, error) {
	var top struct {
		Tests []json.RawMessage `json:"tests"`
	}
	if err := strictDecode(data, &top); err != nil {
		return nil, err
	}
	if len(top.Tests) == 0 {
		return nil, errors.New("tests: at least one test is required")
	}
	s := &Suite{Tests: make([]*Test, 0, len(top.Tests))}
	seen := map[string]int{}
	for i, raw := range top.Tests {
		var ft fileTest
		if err := strictDecode(raw, &ft); err != nil {
			return nil, fmt.Errorf("tests[%d]%s", i, fieldError(err))
		}
		t, err := ft.test(i)
		if err != nil {
			return nil, fmt.Errorf("tests[%d].%w", i, err)
		}
		if j, dup := seen[t.ID]; dup {
			return nil, fmt.Errorf("tests[%d].id: %q is already the id of tests[%d]", i, t.ID, j)
		}
		seen[t.ID] = i
		s.Tests = append(s.Tests, t)
	}
	return s, nil
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// fieldError turns a decoding error into ".field: why" or ": why".
func fieldError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf(".%s: want %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Sprintf(".%s: unknown field", strings.Trim(msg, `"`))
	}
	return ": " + err.Error()
}

// test validates a file test; errors start with the field name.
func (ft *fileTest) test(index int) (*Test, error) {
	t := &Test{ID: ft.ID, Type: ft.Type, Prompt: ft.Prompt, System: ft.System, MaxTokens: DefaultMaxTokens, Weight: 1}
	if t.ID == "" {
		t.ID = fmt.Sprintf("test-%d", index)
	}
	if !idRe.MatchString(t.ID) {
		return nil, fmt.Errorf("id: %q must match %s", t.ID, idRe)
	}
	if strings.TrimSpace(t.Prompt) == "" {
		return nil, errors.New("prompt: required")
	}
	if ft.MaxTokens != nil {
		if *ft.MaxTokens <= 0 {
			return nil, fmt.Errorf("max_tokens: %d must be positive", *ft.MaxTokens)
		}
		t.MaxTokens = *ft.MaxTokens
	}
	if ft.Temperature != nil {
		if *ft.Temperature < 0 || *ft.Temperature > 2 || math.IsNaN(*ft.Temperature) {
			return nil, fmt.Errorf("temperature: %v is outside 0 to 2", *ft.Temperature)
		}
		t.Temperature = *ft.Temperature
	}
	if ft.Timeout != "" {
		d, err := model.ParseDuration(ft.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("timeout: %q is not a positive duration such as \"90s\"", ft.Timeout)
		}
		t.Timeout = time.Duration(d)
	}
	if ft.Weight != nil {
		if !(*ft.Weight > 0) || math.IsInf(*ft.Weight, 0) {
			return nil, fmt.Errorf("weight: %v must be a positive number", *ft.Weight)
		}
		t.Weight = *ft.Weight
	}
	if err := ft.rule(&t.Match); err != nil {
		return nil, err
	}
	if ft.ReferenceAnswer != nil {
		t.Reference = *ft.ReferenceAnswer
		if ok, why := t.Match.Check(t.Reference); !ok {
			return nil, fmt.Errorf("reference_answer: fails the test's own rule: %s", why)
		}
	}
	return t, nil
}

// rule builds the match rule; expected_keywords is the seed's spelling of
// match.any.
func (ft *fileTest) rule(m *Match) error {
	r := ft.Match
	if r == nil {
		r = &fileRule{}
	}
	if ft.ExpectedKeywords != nil && r.Any != nil {
		return errors.New("match.any: give either expected_keywords or match.any, not both")
	}
	m.Any, m.All, m.Forbidden = r.Any, r.All, r.Forbidden
	m.CaseSensitive, m.WidthSensitive = r.CaseSensitive, r.WidthSensitive
	field := "match.any"
	if ft.ExpectedKeywords != nil {
		m.Any, field = ft.ExpectedKeywords, "expected_keywords"
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{field, m.Any}, {"match.all", m.All}, {"match.forbidden", m.Forbidden}} {
		if l.list != nil && len(l.list) == 0 {
			return fmt.Errorf("%s: empty list", l.field)
		}
		for j, k := range l.list {
			if strings.TrimSpace(k) == "" {
				return fmt.Errorf("%s[%d]: empty", l.field, j)
			}
		}
	}
	for j, expr := range r.Regex {
		if !m.CaseSensitive {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return fmt.Errorf("match.regex[%d]: %v", j, err)
		}
		m.Regex = append(m.Regex, re)
	}
	if r.Regex != nil && len(r.Regex) == 0 {
		return errors.New("match.regex: empty list")
	}
	if len(m.Any)+len(m.All)+len(m.Regex) == 0 {
		return errors.New("match: no rule: give expected_keywords, match.any, match.all or match.regex")
	}
	return nil
}

// Weight is the sum of the tests' weights.
func (s *Suite) Weight() float64 {
	w := 0.0
	for _, t := range s.Tests {
		w += t.Weight
	}
	return w
}
