package suite

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name, rule, answer string
		pass               bool
		why                string
	}{
		{"any keyword", `"expected_keywords":["Carol","carol smith"]`, "The shortest is Carol.", true, ""},
		{"no keyword", `"expected_keywords":["Carol"]`, "Bob", false, `none of ["Carol"] found`},
		{"case folded by default", `"expected_keywords":["HAVING"]`, "having", true, ""},
		{"case sensitive", `"match":{"any":["BANANA"],"case_sensitive":true}`, "banana", false, "none of"},
		{"chinese keyword", `"expected_keywords":["星期五"]`, "100天后是星期五。", true, ""},
		{"chinese keyword absent", `"expected_keywords":["星期五"]`, "星期四", false, "none of"},
		{"full-width digits in the answer", `"expected_keywords":["1024"]`, "答案是１０２４。", true, ""},
		{"full-width letters in the keyword", `"expected_keywords":["ＯＫ"]`, "status ok", true, ""},
		{"ideographic space folds", `"expected_keywords":["good morning"]`, "Good　morning", true, ""},
		{"white space runs fold", `"expected_keywords":["O(log n)"]`, "O(log \n  n)", true, ""},
		{"width sensitive", `"match":{"any":["1024"],"width_sensitive":true}`, "１０２４", false, "none of"},
		{"all keywords", `"match":{"all":["cls","实例"]}`, "cls 是类引用,不是实例", true, ""},
		{"all keywords, one missing", `"match":{"all":["cls","实例"]}`, "cls 是类引用", false, `"实例" not found`},
		{"regex", `"match":{"regex":["\\b391\\b"]}`, "17 × 23 = 391.", true, ""},
		{"regex word boundary", `"match":{"regex":["\\b391\\b"]}`, "3910", false, `regex "\\b391\\b" does not match`},
		{"regex sees full-width digits folded", `"match":{"regex":["^\\d+$"]}`, "３９１", true, ""},
		{"regex case folded", `"match":{"regex":["^no\\b"]}`, "No, it did not rain.", true, ""},
		{"regex case sensitive", `"match":{"regex":["^BANANA$"],"case_sensitive":true}`, "Banana", false, "does not match"},
		{"regex anchored after trimming", `"match":{"regex":["^[\\s\\p{P}]*三[\\s\\p{P}]*$"]}`, "\n 「三」\n", true, ""},
		{"regex rejects extra han", `"match":{"regex":["^[\\s\\p{P}]*三[\\s\\p{P}]*$"]}`, "三个", false, "does not match"},
		{"forbidden keyword", `"match":{"regex":["^[\\s\\p{P}]*是"],"forbidden":["不是"]}`, "是,不是说", false, `forbidden "不是" found`},
		{"forbidden absent", `"match":{"regex":["^[\\s\\p{P}]*是"],"forbidden":["不是"]}`, "是。猫都是动物。", true, ""},
		{"forbidden is width folded", `"match":{"any":["Carol"],"forbidden":["Bob"]}`, "Carol, not Ｂｏｂ", false, "forbidden"},
		{"every part must hold", `"expected_keywords":["a"],"match":{"all":["b"],"regex":["c$"],"forbidden":["d"]}`, "a b c", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse([]byte(`{"tests":[{"prompt":"p",` + c.rule + `}]}`))
			if err != nil {
				t.Fatal(err)
			}
			ok, why := s.Tests[0].Match.Check(c.answer)
			if ok != c.pass || !strings.Contains(why, c.why) || (ok && why != "") {
				t.Errorf("Check(%q) = %v %q, want %v %q", c.answer, ok, why, c.pass, c.why)
			}
		})
	}
}
