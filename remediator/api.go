package remediator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

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
//	POST /api/v1/upgrades, GET /api/v1/upgrades[/{id}]  guarded upgrades (api_upgrade.go)
func (r *Remediator) Handler(authn func(http.Handler) http.Handler) http.Handler {
	if authn == nil {
		authn = func(h http.Handler) http.Handler { return h }
	}
	api := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle("/api/v1/alerts", promhttp.InstrumentHandlerCounter(r.m.requests, authn(http.HandlerFunc(r.receive))))
	outer.Handle("/", authn(api))
	mux := api
	mux.HandleFunc("GET /api/v1/incidents", r.listIncidents)
	mux.HandleFunc("GET /api/v1/incidents/{id}", r.getIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/approve", func(w http.ResponseWriter, req *http.Request) { r.decide(w, req, true) })
	mux.HandleFunc("POST /api/v1/incidents/{id}/reject", func(w http.ResponseWriter, req *http.Request) { r.decide(w, req, false) })
	mux.HandleFunc("GET /api/v1/targets", r.listTargets)
	r.upgradeRoutes(mux) // api_upgrade.go
	mux.HandleFunc("POST /api/v1/targets/{name}/reset", func(w http.ResponseWriter, req *http.Request) {
		err := r.ResetCircuit(req.PathValue("name"))
		if errors.Is(err, errUnknown) {
			httpError(w, http.StatusNotFound, err.Error())
			return
		}
		if err != nil {
			httpError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeJSON(w, map[string]string{"target": req.PathValue("name"), "circuit": "closed"})
	})
	return outer
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// maxList bounds one listing.
const maxList = 1000

func (r *Remediator) listIncidents(w http.ResponseWriter, req *http.Request) {
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
			t = r.now().Add(-d)
		}
		f.Since = t
	}
	page, err := r.journal.ListPage(f)
	if errors.Is(err, journal.ErrBadCursor) {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		r.journalError("list", err)
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

func (r *Remediator) getIncident(w http.ResponseWriter, req *http.Request) {
	inc, err := r.Incident(req.PathValue("id"))
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

func (r *Remediator) listTargets(w http.ResponseWriter, _ *http.Request) {
	out, err := r.TargetStates()
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, map[string]any{"targets": out})
}

// Incidents lists journaled incidents, most recently received first.
func (r *Remediator) Incidents(f journal.Filter) ([]*journal.Incident, error) {
	incs, err := r.journal.List(f)
	if err != nil {
		r.journalError("list", err)
	}
	return incs, err
}

// Incident reads one incident; journal.ErrNotFound when there is none.
func (r *Remediator) Incident(id string) (*journal.Incident, error) {
	inc, err := r.journal.Incident(id)
	if err != nil {
		r.journalError("get", err)
	}
	return inc, err
}

// TargetStates is the gate's state of every configured target, in the
// configuration's order.
func (r *Remediator) TargetStates() ([]*journal.Target, error) {
	out := []*journal.Target{}
	for _, name := range r.cfg.Load().TargetNames() {
		ts, err := r.journal.Target(name)
		if err != nil {
			r.journalError("targets", err)
			return nil, err
		}
		out = append(out, ts)
	}
	return out, nil
}

// ErrNotPending and ErrExpired answer 409: the incident exists but cannot be
// approved or rejected any more.
var (
	ErrNotPending = errors.New("incident is not waiting for approval")
	ErrExpired    = errors.New("approval expired")
)

// Approve lets a pending incident's action run; Reject drops it.
func (r *Remediator) Approve(id string) (*journal.Incident, error) { return r.settle(id, true, "") }

// Reject drops a pending incident; a reason, if any, is journaled with it.
func (r *Remediator) Reject(id, reason string) (*journal.Incident, error) {
	return r.settle(id, false, reason)
}

// maxReason bounds a reason typed by a person.
const maxReason = 500

// rejectReason is the incident's reason for a rejection: the person's words,
// bounded and on one line, since they are shown and logged.
func rejectReason(reason string) string {
	reason = strings.Join(strings.FieldsFunc(reason, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }), " ")
	if reason == "" {
		return "rejected"
	}
	if r := []rune(reason); len(r) > maxReason {
		reason = string(r[:maxReason]) + "…"
	}
	return "rejected: " + reason
}

func (r *Remediator) settle(id string, approve bool, reason string) (*journal.Incident, error) {
	now := r.now()
	var inc *journal.Incident
	expired := false
	err := r.journal.Update(func(tx journal.Tx) error {
		var err error
		expired = false
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		if inc.State != journal.StatePending {
			return ErrNotPending
		}
		// Housekeeping expires approvals once a tick; an answer that comes
		// after the deadline but before the tick is too late all the same.
		if inc.Expire(now) {
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
			expired = true
			r.countExpired(inc)
			return nil
		}
		if approve {
			if err := inc.Approve(now); err != nil {
				return err
			}
			return tx.PutIncident(inc)
		}
		if err := inc.Reject(rejectReason(reason), now); err != nil {
			return err
		}
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		r.m.incidents.WithLabelValues(journal.DecisionRejected).Inc() // before the commit, as in the gate stage
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrNotPending) {
			r.journalError("settle", err)
		}
		return inc, err
	}
	r.dropPending(id)
	if expired {
		return inc, ErrExpired
	}
	if approve {
		r.logger.Info("incident approved", "incident", id, "action", inc.Action, "target", inc.Target)
		r.enqueue(inc.Target, id)
	} else {
		r.logger.Info("incident rejected", "incident", id, "reason", inc.Reason)
	}
	return inc, nil
}

func (r *Remediator) decide(w http.ResponseWriter, req *http.Request, approve bool) {
	inc, err := r.settle(req.PathValue("id"), approve, req.URL.Query().Get("reason"))
	switch {
	case errors.Is(err, journal.ErrNotFound):
		httpError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrNotPending), errors.Is(err, ErrExpired):
		httpError(w, http.StatusConflict, NotPendingReason(inc, err))
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, inc)
	}
}

// NotPendingReason says why an incident cannot be settled, in words an
// operator at the CLI or the console can act on.
func NotPendingReason(inc *journal.Incident, err error) string {
	msg := fmt.Sprintf("%s: incident %s is %s", err, inc.ID, inc.State)
	if inc.Decision != "" {
		msg += ", decision " + inc.Decision
	}
	if inc.Reason != "" {
		msg += " (" + inc.Reason + ")"
	}
	return msg
}
