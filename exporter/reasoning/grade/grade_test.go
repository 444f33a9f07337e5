package grade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		name, content, reasoning, finish string
		text                             string
		thinking                         int
		closed                           bool
	}{
		{"no thinking", "391", "", "stop", "391", 0, true},
		{"complete block", "<think>\n17*23 = 391\n</think>\n\n391", "", "stop", "391", len("\n17*23 = 391\n"), true},
		{"two blocks", "<think>ab</think>x <think>cd</think>y", "", "stop", "x y", 4, true},
		{"truncated block", "<think>\nlet me think about", "", "length", "", len("\nlet me think about"), false},
		{"text before a truncated block", "Sure. <think>hmm", "", "length", "Sure.", 3, false},
		{"block opened by the chat template", "thinking here</think>\n391", "", "stop", "391", len("thinking here"), true},
		{"reasoning_content", "391", "17 times 23 is 391", "stop", "391", len("17 times 23 is 391"), true},
		{"reasoning_content cut by the limit", "", "17 times 23 is", "length", "", len("17 times 23 is"), false},
		{"reasoning_content, model gave no answer", "", "done thinking", "stop", "", len("done thinking"), true},
		{"chinese thinking counts characters", "<think>星期三加两天</think>星期五", "", "stop", "星期五", 6, true},
		{"keywords in the thinking are not the answer", "<think>maybe 391?</think>I cannot say", "", "stop", "I cannot say", len("maybe 391?"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Split(c.content, c.reasoning, c.finish)
			if a.Text != c.text || a.ThinkingChars != c.thinking || a.ThinkClosed != c.closed {
				t.Errorf("Split = %+v, want text %q, thinking %d, closed %v", a, c.text, c.thinking, c.closed)
			}
		})
	}
}

func TestGrade(t *testing.T) {
	s, err := suite.Parse([]byte(`{"tests":[
		{"id":"n","prompt":"17*23?","match":{"regex":["\\b391\\b"]}},
		{"id":"zh","prompt":"100天后星期几?","expected_keywords":["星期五"],"match":{"forbidden":["星期四"]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	num, zh := s.Tests[0], s.Tests[1]
	cases := []struct {
		name                     string
		test                     *suite.Test
		content, reasoning, stop string
		passed                   bool
		reason, detail           string
	}{
		{"correct after thinking", num, "<think>17*20+17*3</think>391", "", "stop", true, "", ""},
		{"correct without thinking", num, "391", "", "stop", true, "", ""},
		{"full-width digits", num, "<think>x</think>３９１", "", "stop", true, "", ""},
		{"correct via reasoning_content", num, "391", "17*23", "stop", true, "", ""},
		{"answer only in the thinking", num, "<think>391</think>no idea", "", "stop", false, WrongAnswer, "regex"},
		{"answer only in reasoning_content", num, "no idea", "391", "stop", false, WrongAnswer, "regex"},
		{"think truncated", num, "<think>17*23 is 39", "", "length", false, ThinkTruncated, `finish_reason "length"`},
		{"reasoning cut, content null", num, "", "17*23 is", "length", false, ThinkTruncated, ""},
		{"empty answer", num, "<think>391</think>\n\n", "", "stop", false, EmptyAnswer, ""},
		{"chinese keyword", zh, "<think>三加二</think>是星期五。", "", "stop", true, "", ""},
		{"chinese forbidden keyword", zh, "星期四或星期五", "", "stop", false, WrongAnswer, `forbidden "星期四"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Grade(c.test, c.content, c.reasoning, c.stop)
			if o.Passed != c.passed || o.Reason != c.reason || !strings.Contains(o.Detail, c.detail) {
				t.Errorf("Grade = %+v, want passed %v reason %q detail ~%q", o, c.passed, c.reason, c.detail)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestFailed(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("post: %w", context.DeadlineExceeded), Timeout},
		{fmt.Errorf("read: %w", timeoutErr{}), Timeout},
		{errors.New("connection refused"), HTTPError},
		{errors.New("status 503"), HTTPError},
	} {
		if o := Failed(c.err); o.Passed || o.Reason != c.want || o.Detail == "" {
			t.Errorf("Failed(%v) = %+v, want %s", c.err, o, c.want)
		}
	}
}
