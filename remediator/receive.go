package remediator

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"

	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/match"
	"github.com/clawwatch/clawwatch/remediator/payload"
)

// ackBody is the webhook's answer.
type ackBody struct {
	Incidents  []string `json:"incidents"`
	New        int      `json:"new"`
	Duplicates int      `json:"duplicates"`
	NoMatch    int      `json:"noMatch"`
	Resolved   int      `json:"resolved"`
}

// ServeHTTP is POST /api/v1/alerts. It answers 200 once the delivery is on
// disk, 4xx with a reason for bad input (not retried by Alertmanager), and
// 503 only when the journal fails (retried, which is what we want then).
func (r *Remediator) receive(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	defer func() { r.m.ackDuration.Observe(time.Since(start).Seconds()) }()
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	cfg := r.cfg.Load()
	msg, err := payload.Decode(req.Body, int64(cfg.BodyLimit))
	if err != nil {
		var perr *payload.Error
		code := http.StatusBadRequest
		if errors.As(err, &perr) && perr.TooLarge {
			code = http.StatusRequestEntityTooLarge
		}
		r.logger.Warn("webhook rejected", "remote", req.RemoteAddr, "code", code, "reason", err)
		httpError(w, code, err.Error())
		return
	}
	now := r.now()
	incs := r.incidents(msg, now)
	adm, err := r.journal.Admit(incs, now)
	if err != nil {
		r.journalError("admit", err)
		httpError(w, http.StatusServiceUnavailable, "journal unavailable; retry")
		return
	}
	var ack ackBody
	for i, a := range adm {
		inc, status := a.Incident, incs[i].Status // Admit answers in order
		r.m.alerts.WithLabelValues(status).Inc()
		switch {
		case !a.Known:
			ack.Resolved++
		case a.New && inc.Decision == journal.DecisionNoMatch:
			ack.NoMatch++
			r.m.incidents.WithLabelValues(journal.DecisionNoMatch).Inc()
			r.logger.Debug("no policy applies", "incident", inc.ID, "alertname", match.Quote(inc.AlertName), "reason", inc.Reason)
		case a.New:
			ack.New++
			r.enqueue(inc.Target, inc.ID)
		case status == "resolved":
			ack.Resolved++
		default:
			ack.Duplicates++
			r.m.incidents.WithLabelValues(journal.DecisionDuplicate).Inc()
		}
		ack.Incidents = append(ack.Incidents, inc.ID)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ack)
}

// incidents runs the incident and match stages on a delivery: the key is
// fingerprint plus startsAt, and the policy decides action and target before
// anything is written, so a no_match is journaled with its reason.
func (r *Remediator) incidents(msg *webhook.Message, now time.Time) []*journal.Incident {
	cfg := r.cfg.Load()
	out := make([]*journal.Incident, 0, len(msg.Alerts))
	for _, a := range msg.Alerts {
		inc := &journal.Incident{
			ID:          journal.ID(a.Fingerprint, a.StartsAt),
			Fingerprint: a.Fingerprint,
			StartsAt:    a.StartsAt,
			AlertName:   a.Labels["alertname"],
			Status:      a.Status,
			Labels:      maps.Clone(map[string]string(a.Labels)),
			Annotations: maps.Clone(map[string]string(a.Annotations)),
			Receiver:    msg.Receiver,
			GroupKey:    msg.GroupKey,
			State:       journal.StateReceived,
		}
		if a.Status == "firing" {
			res := match.Match(cfg, inc.Labels)
			inc.Policy = res.Policy
			if !res.Matched {
				_ = inc.Settle(journal.DecisionNoMatch, res.Reason, now) // a received incident may always settle
			} else {
				inc.Action, inc.Target, inc.DryRun, inc.Approval = res.Action, res.Target, res.DryRun, res.Approval
			}
		}
		out = append(out, inc)
	}
	return out
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
