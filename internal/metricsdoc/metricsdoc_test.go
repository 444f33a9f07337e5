package metricsdoc

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.md")
	doc := "# Metrics\n## a\n| `a_one` | gauge |\n### a.sub\n| `a_two` | counter |\n## b\n| `b_one` | gauge |\n#not a heading\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		heading string
		want    []string
		err     bool
	}{
		{"## a", []string{"a_one", "a_two"}, false},
		{"### a.sub", []string{"a_two"}, false},
		{"## b", []string{"b_one"}, false},
		{"## c", nil, true},
		{"c", nil, true},
	} {
		got, err := Names(path, tc.heading)
		if (err != nil) != tc.err {
			t.Errorf("%q: err = %v, want error %v", tc.heading, err, tc.err)
			continue
		}
		if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, tc.want) {
			t.Errorf("%q: %v, want %v", tc.heading, names, tc.want)
		}
	}
}
