package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// link is one way out of an incident's page.
type link struct {
	Text string
	URL  string
}

// OverviewDashboardUID is the uid of dashboards/openclaw-overview.json, the
// dashboard an incident links to (a test holds the two together).
const OverviewDashboardUID = "e381b7fda24ca26958ce9132"

// links are the alert's runbook (only an http(s) URL: alert annotations are
// untrusted data), the alert in Prometheus and the gateway's dashboard in
// Grafana around the incident's time, when their URLs are configured.
func (c *Console) links(cfg *config.Config, inc *journal.Incident) []link {
	var out []link
	if u, err := url.Parse(inc.Annotations["runbook_url"]); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		out = append(out, link{"Runbook", u.String()})
	}
	target := inc.Labels[cfg.TargetLabel]
	if p := c.o.PrometheusURL; p != nil && inc.AlertName != "" {
		expr := fmt.Sprintf("ALERTS{alertname=%s", strconv.Quote(inc.AlertName))
		if target != "" {
			expr += fmt.Sprintf(", %s=%s", cfg.TargetLabel, strconv.Quote(target))
		}
		expr += "}"
		q := url.Values{"g0.expr": {expr}, "g0.tab": {"0"}, "g0.range_input": {"6h"}}
		out = append(out, link{"Alert in Prometheus", join(p, "/graph") + "?" + q.Encode()})
	}
	if g := c.o.GrafanaURL; g != nil {
		from := inc.StartsAt.Add(-30 * time.Minute)
		to := inc.UpdatedAt.Add(30 * time.Minute)
		if inc.ResolvedAt != nil && inc.ResolvedAt.After(inc.UpdatedAt) {
			to = inc.ResolvedAt.Add(30 * time.Minute)
		}
		q := url.Values{"from": {strconv.FormatInt(from.UnixMilli(), 10)}, "to": {strconv.FormatInt(to.UnixMilli(), 10)}}
		if target != "" {
			q.Set("var-gateway", target)
		}
		out = append(out, link{"Gateway dashboard in Grafana", join(g, "/d/"+OverviewDashboardUID) + "?" + q.Encode()})
	}
	return out
}

func join(base *url.URL, p string) string {
	return strings.TrimRight(base.String(), "/") + p
}

// alertRedirect takes Alertmanager's view of an alert (fingerprint and
// startsAt, what its templates know) to the incident's page: the incident
// id is a digest of the two (journal.ID), which a template cannot compute.
func (c *Console) alertRedirect(w http.ResponseWriter, r *http.Request, s *session) {
	startsAt, err := time.Parse(time.RFC3339Nano, r.PathValue("startsAt"))
	fp := r.PathValue("fingerprint")
	if err != nil || fp == "" {
		c.fail(w, s, http.StatusBadRequest, "An alert link needs a fingerprint and an RFC 3339 startsAt.")
		return
	}
	http.Redirect(w, r, c.base+"/incidents/"+journal.ID(fp, startsAt), http.StatusSeeOther)
}
