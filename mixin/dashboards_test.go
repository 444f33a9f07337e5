package mixin

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var fixedRangeRe = regexp.MustCompile(`\[[0-9]+[smhdw]\]`)

// TestDashboardsFollowConventions: stable uids, the shared variables, a unit
// and a description on every panel, $__rate_interval for rates, and panels
// inside Grafana's 24 columns without overlapping.
func TestDashboardsFollowConventions(t *testing.T) {
	n := 0
	for path, data := range render(t, "") {
		file, ok := strings.CutPrefix(path, "dashboards/")
		if !ok {
			continue
		}
		n++
		var d struct {
			UID        string `json:"uid"`
			Templating struct {
				List []struct {
					Name     string `json:"name"`
					AllValue string `json:"allValue"`
					Multi    bool   `json:"multi"`
				} `json:"list"`
			} `json:"templating"`
			Panels []struct {
				Type        string `json:"type"`
				Title       string `json:"title"`
				Description string `json:"description"`
				GridPos     struct{ X, Y, W, H int }
				FieldConfig struct {
					Defaults struct {
						Unit string `json:"unit"`
					} `json:"defaults"`
				} `json:"fieldConfig"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		sum := md5.Sum([]byte(file))
		if d.UID != hex.EncodeToString(sum[:])[:24] {
			t.Errorf("%s: uid %q is not derived from the file name", path, d.UID)
		}
		var vars []string
		for _, v := range d.Templating.List {
			vars = append(vars, v.Name)
			if v.Multi && v.AllValue != ".+" {
				t.Errorf("%s: multi-select variable %s without allValue .+", path, v.Name)
			}
		}
		for _, v := range []string{"datasource", "job", "instance"} {
			if !slices.Contains(vars, v) {
				t.Errorf("%s: no %s variable (%v)", path, v, vars)
			}
		}
		cells := map[[2]int]string{}
		for _, p := range d.Panels {
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("%s: panel %q at %+v is outside the 24-column grid", path, p.Title, g)
			}
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, ok := cells[[2]int{x, y}]; ok {
						t.Errorf("%s: panels %q and %q overlap", path, p.Title, other)
					}
					cells[[2]int{x, y}] = p.Title
				}
			}
			if p.Type == "row" {
				continue
			}
			if p.Description == "" || p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: panel %q needs a description and a unit", path, p.Title)
			}
			for _, tg := range p.Targets {
				if fixedRangeRe.MatchString(tg.Expr) {
					t.Errorf("%s: panel %q uses a fixed range instead of $__rate_interval: %s", path, p.Title, tg.Expr)
				}
			}
		}
	}
	if n != 5 {
		t.Errorf("%d dashboards, want overview, resources, reasoning, GPU and remediation", n)
	}
}
