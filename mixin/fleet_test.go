package mixin

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// fleet is a fleet's override: both jobs renamed and narrowed to a cluster
// by their selectors, clusters told apart by a "site" label, and the
// cluster variable shown.
const fleet = `{ _config+:: {
  exporterSelector: 'job="claw", cluster="prod"',
  remediatorSelector: 'job="heal", cluster="prod"',
  clusterLabel: 'site',
  showMultiCluster: true,
} }`

// TestFleetOverrideReachesEveryExpression renders the mixin for a fleet and
// parses every PromQL expression of its alerts, recording rules, panels,
// template variables and annotations: every series it selects carries one
// of the two selectors whole, every dashboard query the chosen cluster, and
// every aggregation and join keeps the cluster label, so that two clusters'
// series never mix.
func TestFleetOverrideReachesEveryExpression(t *testing.T) {
	files := render(t, fleet)
	exprs := expressions(t, files)
	selectors := [][]*labels.Matcher{
		{labels.MustNewMatcher(labels.MatchEqual, "job", "claw"), labels.MustNewMatcher(labels.MatchEqual, "cluster", "prod")},
		{labels.MustNewMatcher(labels.MatchEqual, "job", "heal"), labels.MustNewMatcher(labels.MatchEqual, "cluster", "prod")},
	}
	chosenCluster := labels.MustNewMatcher(labels.MatchRegexp, "site", "var_cluster")
	has := func(ms []*labels.Matcher, want *labels.Matcher) bool {
		return slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return m.String() == want.String() })
	}

	kinds := map[string]int{}
	for where, expr := range exprs {
		dashboard := strings.HasPrefix(where, "dashboards/")
		kind := strings.Fields(where)[0]
		if dashboard {
			kind = "dashboards"
			for _, k := range []string{"variable", "annotation"} {
				if strings.Contains(where, " "+k+" ") {
					kind = k
				}
			}
		}
		kinds[kind]++
		e, err := parser.ParseExpr(expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", where, err, expr)
			continue
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			switch n := n.(type) {
			case *parser.VectorSelector:
				// ALERTS carries the labels of the alerting series, not a job's.
				if n.Name != "ALERTS" && !slices.ContainsFunc(selectors, func(sel []*labels.Matcher) bool {
					return !slices.ContainsFunc(sel, func(m *labels.Matcher) bool { return !has(n.LabelMatchers, m) })
				}) {
					t.Errorf("%s: %s does not carry the job's selector", where, n)
				}
				if dashboard && !strings.HasSuffix(where, " variable cluster") && !has(n.LabelMatchers, chosenCluster) {
					t.Errorf("%s: %s does not select the chosen cluster", where, n)
				}
			case *parser.AggregateExpr:
				if len(n.Grouping) > 0 && !n.Without && !slices.Contains(n.Grouping, "site") {
					t.Errorf("%s: %s by (%s) drops the cluster label", where, n.Op, strings.Join(n.Grouping, ", "))
				}
			case *parser.BinaryExpr:
				if m := n.VectorMatching; m != nil && m.On && !slices.Contains(m.MatchingLabels, "site") {
					t.Errorf("%s: %s on (%s) joins across clusters", where, n.Op, strings.Join(m.MatchingLabels, ", "))
				}
			}
			return nil
		})
	}
	// Each kind of expression was there to check.
	for _, k := range []string{"mixin/alerts.yaml", "mixin/rules.yaml", "dashboards", "variable", "annotation"} {
		if kinds[k] == 0 {
			t.Errorf("no %s expressions checked (%v)", k, kinds)
		}
	}
	t.Logf("expressions checked: %v", kinds)

	// Every dashboard has the cluster and instance variables, the cluster
	// one shown for a fleet and hidden on one host.
	for _, c := range []struct {
		override string
		hide     int
	}{{fleet, 0}, {"", 2}} {
		for path, data := range render(t, c.override) {
			if !strings.HasPrefix(path, "dashboards/") {
				continue
			}
			var d struct {
				Templating struct {
					List []struct {
						Name string `json:"name"`
						Hide int    `json:"hide"`
					} `json:"list"`
				} `json:"templating"`
			}
			if err := json.Unmarshal(data, &d); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			hide := map[string]int{}
			for _, v := range d.Templating.List {
				hide[v.Name] = v.Hide
			}
			if h, ok := hide["cluster"]; !ok || h != c.hide {
				t.Errorf("%s (override %q): cluster variable hide=%d (present %v), want %d", path, c.override, h, ok, c.hide)
			}
			if _, ok := hide["instance"]; !ok {
				t.Errorf("%s: no instance variable", path)
			}
		}
	}
}
