// Package api serves the remediator's HTTP API: Alertmanager's webhook,
// the incidents and their approvals, the targets' circuits and guarded
// upgrades. It decodes and answers; package incident and package upgrade
// do the work.
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/incident"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/upgrade"
)

// API is the HTTP face of the incidents and the upgrades.
type API struct {
	incidents   *incident.Incidents
	upgrades    *upgrade.Runner
	config      func() *config.Config
	now         func() time.Time
	logger      *slog.Logger
	requests    *prometheus.CounterVec
	ackDuration prometheus.Histogram
}

// New registers the API's series.
func New(incs *incident.Incidents, ups *upgrade.Runner, cfg func() *config.Config, now func() time.Time, logger *slog.Logger, reg prometheus.Registerer) *API {
	a := &API{
		incidents: incs, upgrades: ups, config: cfg, now: now, logger: logger,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_webhook_requests_total",
			Help: "Webhook requests by HTTP status code.",
		}, []string{"code"}),
		ackDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "openclaw_remediator_webhook_ack_duration_seconds",
			Help:    "Time from a webhook's arrival to its answer, the durable journal write included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	reg.MustRegister(a.requests, a.ackDuration)
	for _, code := range []string{"200", "400", "401", "413", "503"} {
		a.requests.WithLabelValues(code)
	}
	return a
}

// Handler serves the API behind authn, which answers unauthenticated
// requests itself (nil: no authentication). Webhook requests are counted
// by code with authn's answers included, so refused senders show.
//
//	POST /api/v1/alerts                       Alertmanager webhook (payload v4)
//	GET  /api/v1/incidents?state=&decision=&target=&action=&since=&limit=&cursor=
//	                                          {"incidents":[…],"next":"<cursor of the next page>"}
//	GET  /api/v1/incidents/{id}
//	POST /api/v1/incidents/{id}/approve       run a pending incident's action
//	POST /api/v1/incidents/{id}/reject?reason= drop it
//	GET  /api/v1/targets                      gate state per target
//	POST /api/v1/targets/{name}/reset         close the target's circuit
//	POST /api/v1/upgrades, GET /api/v1/upgrades[/{id}]  guarded upgrades (upgrades.go)
func (a *API) Handler(authn func(http.Handler) http.Handler) http.Handler {
	if authn == nil {
		authn = func(h http.Handler) http.Handler { return h }
	}
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle("/api/v1/alerts", promhttp.InstrumentHandlerCounter(a.requests, authn(http.HandlerFunc(a.receive))))
	outer.Handle("/", authn(mux))
	mux.HandleFunc("GET /api/v1/incidents", a.listIncidents)
	mux.HandleFunc("GET /api/v1/incidents/{id}", a.getIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/approve", func(w http.ResponseWriter, req *http.Request) { a.answer(w, req, true) })
	mux.HandleFunc("POST /api/v1/incidents/{id}/reject", func(w http.ResponseWriter, req *http.Request) { a.answer(w, req, false) })
	mux.HandleFunc("GET /api/v1/targets", a.listTargets)
	mux.HandleFunc("POST /api/v1/targets/{name}/reset", a.resetCircuit)
	a.upgradeRoutes(mux)
	return outer
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// maxList bounds one listing.
const maxList = 1000

func (a *API) listIncidents(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	f := journal.Filter{State: q.Get("state"), Decision: q.Get("decision"), Target: q.Get("target"), Action: q.Get("action"),
		Limit: 100, After: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			httpError(w, http.StatusBadRequest, "limit: not a positive integer")
			return
		}
		f.Limit = min(n, maxList)
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			d, derr := time.ParseDuration(s)
			if derr != nil {
				httpError(w, http.StatusBadRequest, "since: neither RFC 3339 nor a duration")
				return
			}
			t = a.now().Add(-d)
		}
		f.Since = t
	}
	page, err := a.incidents.Page(f)
	if errors.Is(err, journal.ErrBadCursor) {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if page.Incidents == nil {
		page.Incidents = []*journal.Incident{}
	}
	res := map[string]any{"incidents": page.Incidents}
	if page.Next != "" {
		res["next"] = page.Next // a listing longer than limit (at most 1000) continues with ?cursor=
	}
	writeJSON(w, res)
}

func (a *API) getIncident(w http.ResponseWriter, req *http.Request) {
	inc, err := a.incidents.Get(req.PathValue("id"))
	if errors.Is(err, journal.ErrNotFound) {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, inc)
}

func (a *API) listTargets(w http.ResponseWriter, _ *http.Request) {
	out, err := a.incidents.Targets()
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, map[string]any{"targets": out})
}

func (a *API) resetCircuit(w http.ResponseWriter, req *http.Request) {
	err := a.incidents.ResetCircuit(req.PathValue("name"))
	if errors.Is(err, incident.ErrUnknownTarget) {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, map[string]string{"target": req.PathValue("name"), "circuit": "closed"})
}

func (a *API) answer(w http.ResponseWriter, req *http.Request, approve bool) {
	id := req.PathValue("id")
	var (
		inc *journal.Incident
		err error
	)
	if approve {
		inc, err = a.incidents.Approve(id)
	} else {
		inc, err = a.incidents.Reject(id, req.URL.Query().Get("reason"))
	}
	switch {
	case errors.Is(err, journal.ErrNotFound):
		httpError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, incident.ErrNotPending), errors.Is(err, incident.ErrExpired):
		httpError(w, http.StatusConflict, incident.NotPendingReason(inc, err))
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, inc)
	}
}
