package mixin

import (
	"errors"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// grafanaSchemaVersion is the dashboard schema version Grafana 12 writes,
// the foundation SDK's default: a dashboard at it loads without migrations.
const grafanaSchemaVersion = 42

// TestDashboardsDecodeStrictly decodes every generated dashboard with the
// Grafana foundation SDK's strict decoder (every field its schema requires
// present, none it does not know, every value of its type; panel options
// and queries by their plugin's schema), validates it, and checks that it
// annotates its panels with the firing OpenClaw alerts and the remediator's
// actions.
func TestDashboardsDecodeStrictly(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	n := 0
	for path, data := range render(t, "") {
		if !strings.HasPrefix(path, "dashboards/") {
			continue
		}
		n++
		d, err := decodeStrict(data)
		if err != nil {
			t.Errorf("%s: strict decode: %v", path, err)
			continue
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: validate: %v", path, err)
		}
		if d.SchemaVersion != grafanaSchemaVersion {
			t.Errorf("%s: schemaVersion %d, want %d", path, d.SchemaVersion, grafanaSchemaVersion)
		}
		var alerts, actions bool
		for _, a := range d.Annotations.List {
			if !a.Enable || a.Expr == nil || a.Datasource == nil || a.Datasource.Type == nil || *a.Datasource.Type != "prometheus" {
				t.Errorf("%s: annotation %q is not an enabled Prometheus query", path, a.Name)
				continue
			}
			alerts = alerts || strings.HasPrefix(*a.Expr, `ALERTS{alertname=~"OpenClaw.*", alertstate="firing"`)
			actions = actions || strings.Contains(*a.Expr, "openclaw_remediator_actions_total{")
		}
		if !alerts || !actions {
			t.Errorf("%s: annotations for firing alerts %v, for remediation actions %v; want both", path, alerts, actions)
		}
	}
	if n == 0 {
		t.Fatal("no dashboards rendered")
	}
}

// decodeStrict is the SDK's strict decode. It returns its errors as a
// cog.BuildErrors even when there are none: an empty list is success.
func decodeStrict(data []byte) (*dashboard.Dashboard, error) {
	var d dashboard.Dashboard
	err := d.UnmarshalJSONStrict(data)
	if be := (cog.BuildErrors)(nil); errors.As(err, &be) && len(be) == 0 {
		err = nil
	}
	return &d, err
}
