// Package metricsdoc reads the metric tables of docs/metrics.md, so that each
// part's tests can hold its registered series against its documented ones.
package metricsdoc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var row = regexp.MustCompile("^\\| `([a-z_:][a-z0-9_:]*)`")

// Names returns the metric names in the table rows of the section of the
// Markdown file at path whose heading line is exactly heading (such as
// "### gpu"). The section ends at the next heading of the same or a higher
// level; its subsections belong to it.
func Names(path, heading string) (map[string]bool, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	level := strings.IndexFunc(heading, func(r rune) bool { return r != '#' })
	if level <= 0 {
		return nil, fmt.Errorf("%q is not a Markdown heading", heading)
	}
	names := map[string]bool{}
	in, found := false, false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		if l := strings.IndexFunc(line, func(r rune) bool { return r != '#' }); l > 0 && line[l] == ' ' {
			if in && l <= level {
				break
			}
			if line == heading {
				in, found = true, true
			}
			continue
		}
		if m := row.FindStringSubmatch(line); in && m != nil {
			names[m[1]] = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no section %q", path, heading)
	}
	return names, sc.Err()
}
