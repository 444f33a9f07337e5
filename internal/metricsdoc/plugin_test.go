package metricsdoc

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// pluginList is the testdata copy of the names OpenClaw's own
// diagnostics-prometheus plugin exports.
const pluginList = "../../testdata/openclaw-plugin-metrics.txt"

// typedRow is a metric table row: its name and its type.
var typedRow = regexp.MustCompile("^\\| `([a-z_:][a-z0-9_:]*)` +\\| +([a-z]+) +\\|")

// typedNames reads name → type from the rows of every metric table in a
// Markdown file: docs/metrics.md, or the plugin's docs/gateway/prometheus.md.
func typedNames(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := typedRow.FindStringSubmatch(sc.Text()); m != nil {
			names[m[1]] = m[2]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// pluginNames reads the testdata list: "name type" lines, # comments.
func pluginNames(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(pluginList)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("%s:%d: want \"name type\", got %q", pluginList, i+1, line)
		}
		names[f[0]] = f[1]
	}
	return names
}

// series expands names to the series a scrape shows: a histogram or summary
// adds _bucket, _sum and _count, and those clash as much as the name does.
func series(names map[string]string) map[string]string {
	out := map[string]string{}
	for n, typ := range names {
		out[n] = n
		if typ == "histogram" || typ == "summary" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[n+s] = n
			}
		}
	}
	return out
}

// TestNoOfficialPluginName fails when a series of the exporter or the
// remediator has a name of OpenClaw's diagnostics-prometheus plugin: a user
// scraping both would see two meanings under one name. docs/metrics.md lists
// every series (each part's tests hold its code to that table), so checking
// the table checks the code.
func TestNoOfficialPluginName(t *testing.T) {
	ours := typedNames(t, "../../docs/metrics.md")
	plugin := pluginNames(t)
	if len(ours) < 50 || len(plugin) < 60 {
		t.Fatalf("read %d of our names and %d of the plugin's: the tables moved", len(ours), len(plugin))
	}
	theirs := series(plugin)
	for s, n := range series(ours) {
		if p, ok := theirs[s]; ok {
			t.Errorf("%s (series %s) clashes with the plugin's %s %s", n, s, p, plugin[p])
		}
	}
}

// TestPluginListIsCurrent holds the testdata list against the table in the
// pinned package's docs/gateway/prometheus.md.
func TestPluginListIsCurrent(t *testing.T) {
	doc := filepath.Join(testbin.OpenClawDir(t), "node_modules", "openclaw", "docs", "gateway", "prometheus.md")
	want := typedNames(t, doc)
	got := pluginNames(t)
	for n, typ := range want {
		if got[n] != typ {
			t.Errorf("%s %s is in %s; the list has %q", n, typ, doc, got[n])
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s is in %s but not in %s", n, pluginList, doc)
		}
	}
}
