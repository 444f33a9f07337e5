package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultSuite(t *testing.T) {
	s := Default()
	if len(s.Tests) < 20 {
		t.Fatalf("default suite has %d tests, want at least 20", len(s.Tests))
	}
	types, zh, en := map[string]int{}, 0, 0
	for _, tc := range s.Tests {
		types[tc.Type]++
		switch {
		case strings.HasSuffix(tc.ID, "-zh"):
			zh++
		case strings.HasSuffix(tc.ID, "-en"):
			en++
		}
		if tc.Reference == "" {
			t.Errorf("%s: no reference_answer: the simulator could not answer it", tc.ID)
		}
		// A rule that a content-free answer passes grades nothing.
		for _, wrong := range []string{"", "Maybe.", "I am unable to say.", "是否", "No idea, not necessarily.", "Nothing."} {
			if ok, _ := tc.Match.Check(wrong); ok {
				t.Errorf("%s: the wrong answer %q passes", tc.ID, wrong)
			}
		}
	}
	for _, typ := range []string{"logical_reasoning", "arithmetic", "code_analysis", "instruction_following"} {
		if types[typ] < 4 {
			t.Errorf("type %s: %d tests, want at least 4", typ, types[typ])
		}
	}
	if zh < 5 || en < 5 {
		t.Errorf("%d Chinese and %d English tests, want at least 5 of each", zh, en)
	}
}

func TestSeedFormatStaysValid(t *testing.T) {
	// The seed's reasoning_tests.json, verbatim.
	seed := `{
  "tests": [
    {
      "type": "logical_reasoning",
      "prompt": "如果所有A都是B,有些B是C,那么以下哪项必然正确?",
      "expected_keywords": ["有些A可能是C"]
    },
    {
      "type": "code_analysis",
      "prompt": "解释Python中@staticmethod和@classmethod的区别",
      "expected_keywords": ["实例", "类引用", "参数"]
    }
  ]
}`
	s, err := Parse([]byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tests) != 2 || s.Tests[0].ID != "test-0" || s.Tests[1].ID != "test-1" {
		t.Fatalf("tests = %+v", s.Tests)
	}
	tc := s.Tests[1]
	if tc.MaxTokens != DefaultMaxTokens || tc.Weight != 1 || tc.Temperature != 0 || tc.Timeout != 0 || len(tc.Match.Any) != 3 {
		t.Errorf("defaults = %+v", tc)
	}
	// The seed's rule: any keyword.
	if ok, _ := tc.Match.Check("第一个参数不同"); !ok {
		t.Error("one keyword of three should pass")
	}
}

func TestParseAllFields(t *testing.T) {
	s, err := Parse([]byte(`{"tests":[{"id":"t1","type":"arithmetic","prompt":"p","system":"be brief","max_tokens":64,
		"temperature":0.6,"timeout":"90s","weight":2.5,"reference_answer":"ANSWER 12",
		"match":{"any":["12"],"all":["answer"],"regex":["\\b12\\b"],"forbidden":["13"],"case_sensitive":false,"width_sensitive":false}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tc := s.Tests[0]
	if tc.ID != "t1" || tc.System != "be brief" || tc.MaxTokens != 64 || tc.Temperature != 0.6 || tc.Timeout != 90*time.Second ||
		tc.Weight != 2.5 || tc.Reference != "ANSWER 12" || len(tc.Match.Regex) != 1 || s.Weight() != 2.5 {
		t.Errorf("test = %+v", tc)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ json, want string }{
		{``, "EOF"},
		{`[]`, "cannot unmarshal array"},
		{`{"tests":[]}`, "tests: at least one test is required"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"]}],"extra":1}`, `unknown field "extra"`},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"]}]} {}`, "unexpected data after"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"]},{"prompt":"p","expectd_keywords":["a"]}]}`, "tests[1].expectd_keywords: unknown field"},
		{`{"tests":[{"prompt":"p","expected_keywords":"a"}]}`, "tests[0].expected_keywords: want []string, got JSON string"},
		{`{"tests":[{"prompt":"p","match":{"regex":[1]}}]}`, "tests[0].match.regex"},
		{`{"tests":[{"prompt":"p","match":{"anything":["a"]}}]}`, "tests[0].anything: unknown field"},
		{`{"tests":[{"prompt":" ","expected_keywords":["a"]}]}`, "tests[0].prompt: required"},
		{`{"tests":[{"prompt":"p"}]}`, "tests[0].match: no rule"},
		{`{"tests":[{"prompt":"p","match":{"forbidden":["x"]}}]}`, "tests[0].match: no rule"},
		{`{"tests":[{"prompt":"p","expected_keywords":[]}]}`, "tests[0].expected_keywords: empty list"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a",""]}]}`, "tests[0].expected_keywords[1]: empty"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"],"match":{"any":["b"]}}]}`, "tests[0].match.any: give either"},
		{`{"tests":[{"prompt":"p","match":{"all":["a"],"regex":["("]}}]}`, "tests[0].match.regex[0]: error parsing regexp"},
		{`{"tests":[{"prompt":"p","match":{"regex":[]}}]}`, "tests[0].match.regex: empty list"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"]},{"id":"test-0","prompt":"q","expected_keywords":["a"]}]}`, `tests[1].id: "test-0" is already the id of tests[0]`},
		{`{"tests":[{"id":"a b","prompt":"p","expected_keywords":["a"]}]}`, `tests[0].id: "a b" must match`},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"],"max_tokens":0}]}`, "tests[0].max_tokens: 0 must be positive"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"],"temperature":3}]}`, "tests[0].temperature: 3 is outside"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"],"timeout":"soon"}]}`, `tests[0].timeout: "soon" is not a positive duration`},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"],"timeout":"0s"}]}`, `tests[0].timeout: "0s"`},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"],"weight":0}]}`, "tests[0].weight: 0 must be a positive number"},
		{`{"tests":[{"prompt":"p","expected_keywords":["a"],"weight":-1}]}`, "tests[0].weight"},
		{`{"tests":[{"prompt":"p","expected_keywords":["yes"],"reference_answer":"no"}]}`, `tests[0].reference_answer: fails the test's own rule: none of ["yes"] found`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s)\n error = %v\n want it to contain %q", c.json, err, c.want)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"tests":[{"prompt":"p"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "suite "+bad+": tests[0].match") {
		t.Errorf("Load(bad) = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("Load(missing) = %v", err)
	}
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"tests":[{"prompt":"p","expected_keywords":["a"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Load(good); err != nil || len(s.Tests) != 1 {
		t.Errorf("Load(good) = %v, %v", s, err)
	}
}
