package suite

import (
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/testdata"
)

// FuzzParse holds that any input either loads into a usable suite or fails
// with an error that names where; it never panics.
func FuzzParse(f *testing.F) {
	f.Add(testdata.DefaultReasoningSuite)
	f.Add([]byte(`{"tests":[{"type":"t","prompt":"p","expected_keywords":["a"]}]}`))
	f.Add([]byte(`{"tests":[{"prompt":"p","match":{"regex":["(?i)x+"],"forbidden":["y"]},"timeout":"1m","weight":0.5}]}`))
	f.Add([]byte(`{"tests":[{"prompt":"p","expected_keywords":["a"],"reference_answer":"b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if s != nil {
				t.Fatal("suite returned with an error")
			}
			if msg := err.Error(); strings.HasPrefix(msg, "tests[") && !strings.Contains(msg, "]") {
				t.Fatalf("malformed error %q", msg)
			}
			return
		}
		if len(s.Tests) == 0 || !(s.Weight() > 0) {
			t.Fatalf("accepted an empty suite: %+v", s)
		}
		ids := map[string]bool{}
		for _, tc := range s.Tests {
			if ids[tc.ID] || !idRe.MatchString(tc.ID) || tc.MaxTokens <= 0 || !(tc.Weight > 0) {
				t.Fatalf("accepted a bad test: %+v", tc)
			}
			ids[tc.ID] = true
			if tc.Reference != "" {
				if ok, why := tc.Match.Check(tc.Reference); !ok {
					t.Fatalf("%s: reference fails after load: %s", tc.ID, why)
				}
			}
			tc.Match.Check(tc.Prompt) // must not panic
		}
	})
}
