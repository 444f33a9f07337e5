package configpath

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v2"
)

// UnmarshalStrict decodes data into v as yaml.UnmarshalStrict does: an
// unknown or repeated key is an error. Its errors are rewritten for the
// people who wrote the file: yaml names Go types ("field x not found in type
// config.plain", "cannot unmarshal !!str into int"), which mean nothing to
// them and change with the code.
func UnmarshalStrict(data []byte, v any) error {
	err := yaml.UnmarshalStrict(data, v)
	var te *yaml.TypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
	case strings.HasPrefix(err.Error(), "yaml: "): // a syntax error names its line
		return err
	default:
		return withLine(err, data)
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = yamlMessage(m)
	}
	return errors.New(strings.Join(msgs, "; "))
}

var (
	unknownKeyRe  = regexp.MustCompile(`field (\S+) not found in type \S+`)
	repeatedRe    = regexp.MustCompile(`field (\S+) already set in type \S+`)
	repeatedMapRe = regexp.MustCompile(`key (.+) already set in map`)
	wrongKindRe   = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
)

// yamlMessage rewrites one of yaml's type errors; the line stays.
func yamlMessage(m string) string {
	m = unknownKeyRe.ReplaceAllString(m, "unknown key $1")
	m = repeatedRe.ReplaceAllString(m, `key "$1" is written twice`)
	m = repeatedMapRe.ReplaceAllString(m, "key $1 is written twice")
	return wrongKindRe.ReplaceAllStringFunc(m, func(s string) string {
		g := wrongKindRe.FindStringSubmatch(s)
		what := map[string]string{"seq": "a list", "map": "a mapping", "null": "nothing"}[g[1]]
		if what == "" {
			what = g[2]
			if g[1] == "str" {
				what = `"` + g[2] + `"`
			}
		}
		return "cannot read " + what + " as " + yamlKind(g[3])
	})
}

// yamlKind says in YAML's words what a Go type holds.
func yamlKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "a mapping" // a struct: a section of the file
}

var quotedRe = regexp.MustCompile(`"((?:[^"\\]|\\.)+)"`)

// withLine adds the line to the error of a value's own decoder (a duration,
// a size), which yaml passes on without one: the line that holds the value
// it quotes, if exactly one does.
func withLine(err error, data []byte) error {
	m := quotedRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	value, uerr := strconv.Unquote(`"` + m[1] + `"`)
	if uerr != nil {
		return err
	}
	re := regexp.MustCompile(`(^|[\s:\[{,'"])` + regexp.QuoteMeta(value) + `($|[\s,\]}#'"])`)
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if re.MatchString(l) {
			if line != 0 {
				return err
			}
			line = i + 1
		}
	}
	if line == 0 {
		return err
	}
	return fmt.Errorf("line %d: %w", line, err)
}
