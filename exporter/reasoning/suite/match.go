package suite

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Check grades an answer (thinking already removed). When it fails, why
// says which part of the rule did.
func (m *Match) Check(answer string) (ok bool, why string) {
	text := m.fold(answer)
	has := func(k string) bool { return strings.Contains(text, m.fold(k)) }
	if len(m.Any) > 0 {
		found := false
		for _, k := range m.Any {
			if has(k) {
				found = true
				break
			}
		}
		if !found {
			return false, fmt.Sprintf("none of %q found", m.Any)
		}
	}
	for _, k := range m.All {
		if !has(k) {
			return false, fmt.Sprintf("%q not found", k)
		}
	}
	// Regular expressions see width-folded text; case is handled by the
	// (?i) flag added at load, so that \p{Lu} and friends keep working.
	reText := answer
	if !m.WidthSensitive {
		reText = norm.NFKC.String(answer)
	}
	reText = spaces(reText)
	for _, re := range m.Regex {
		if !re.MatchString(reText) {
			return false, fmt.Sprintf("regex %q does not match", strings.TrimPrefix(re.String(), "(?i)"))
		}
	}
	for _, k := range m.Forbidden {
		if has(k) {
			return false, fmt.Sprintf("forbidden %q found", k)
		}
	}
	return true, ""
}

// fold normalises text for keyword matching: NFKC (full-width letters and
// digits to ASCII, ideographic space to a space, ligatures apart), Unicode
// case folding, and runs of white space to one space.
func (m *Match) fold(s string) string {
	if !m.WidthSensitive {
		s = norm.NFKC.String(s)
	}
	if !m.CaseSensitive {
		s = cases.Fold().String(s) // a Caser is stateful: one per call
	}
	return spaces(s)
}

// spaces collapses runs of white space to one ASCII space and trims both ends.
func spaces(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}
