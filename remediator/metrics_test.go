package remediator_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clawwatch/clawwatch/internal/metricsdoc"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

const metricsConfig = `
targets:
  - name: alpha
    driver: {kind: process, start: [/bin/true]}
  - name: beta
    driver: {kind: systemd, unit: openclaw-gateway.service, user: true}
`

// The registered series and the table in docs/metrics.md must agree.
func TestMetricsMatchDocs(t *testing.T) {
	h := harness.New(t, metricsConfig)
	documented, err := metricsdoc.Names("../docs/metrics.md", "## openclaw-remediator")
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := h.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, mf := range mfs {
		registered[mf.GetName()] = true
	}
	for name := range registered {
		if !documented[name] {
			t.Errorf("%s is exported but not in docs/metrics.md", name)
		}
	}
	for name := range documented {
		if !registered[name] {
			t.Errorf("%s is documented but not exported", name)
		}
	}
	problems, err := testutil.GatherAndLint(h.Reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// Every decision, every action × result per target and every target's
// circuit exist before anything happened, so alerts on rate() work at once.
func TestMetricsPreinitialised(t *testing.T) {
	h := harness.New(t, metricsConfig)
	if n := gatherCount(t, h, "openclaw_remediator_incidents_total"); n != len(journal.Decisions) {
		t.Errorf("%d incident series, want %d", n, len(journal.Decisions))
	}
	if n := gatherCount(t, h, "openclaw_remediator_actions_total"); n != 2*len(actions.Names())*len(journal.Results) {
		t.Errorf("%d action series, want %d", n, 2*len(actions.Names())*len(journal.Results))
	}
	if n := gatherCount(t, h, "openclaw_remediator_circuit_open"); n != 2 {
		t.Errorf("%d circuit series, want 2", n)
	}
	err := testutil.GatherAndCompare(h.Reg, strings.NewReader(`
# HELP openclaw_remediator_pending_approvals Incidents waiting for approval.
# TYPE openclaw_remediator_pending_approvals gauge
openclaw_remediator_pending_approvals 0
# HELP openclaw_remediator_pending_approval_oldest_age_seconds Age of the oldest incident waiting for approval; 0 when none waits.
# TYPE openclaw_remediator_pending_approval_oldest_age_seconds gauge
openclaw_remediator_pending_approval_oldest_age_seconds 0
`), "openclaw_remediator_pending_approvals", "openclaw_remediator_pending_approval_oldest_age_seconds")
	if err != nil {
		t.Error(err)
	}
	if !slices.Contains(journal.Decisions, journal.DecisionExpired) {
		t.Error("decision list lost expired")
	}
}

func gatherCount(t *testing.T, h *harness.Harness, name string) int {
	t.Helper()
	n, err := testutil.GatherAndCount(h.Reg, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
