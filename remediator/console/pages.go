package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// view is what every page's template gets.
type view struct {
	Base  string
	Title string
	Nav   string
	// CSRF is the session's form token; SignOut whether a sign-out button
	// makes sense (bearer sessions only).
	CSRF    string
	SignOut bool
	Data    any
}

// when is how pages show a time: UTC, to the second, like the logs.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

var funcs = template.FuncMap{
	"when": when,
	"whenp": func(t *time.Time) string {
		if t == nil {
			return when(time.Time{})
		}
		return when(*t)
	},
	"decideForm": func(id, csrf string) struct{ ID, CSRF string } { return struct{ ID, CSRF string }{id, csrf} },
	"lastResult": func(inc *journal.Incident) string {
		if n := len(inc.Actions); n > 0 {
			return inc.Actions[n-1].Result
		}
		return ""
	},
}

func parseTemplates(base string) (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).Funcs(template.FuncMap{"base": func() string { return base }}).
		ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"sign-in", "incidents", "incident", "approvals", "targets", "error"} {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a whole page; it renders into a buffer first so that a
// template error becomes a 500, not half a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, s *session, data any) {
	v := view{Base: c.base, Title: name, Nav: name, Data: data}
	if s != nil {
		v.CSRF, v.SignOut = s.csrf, c.o.Token != nil
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		c.o.Logger.Error("console page", "page", name, "err", err)
		http.Error(w, "page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail shows an error page; journal errors are the backend's to log.
func (c *Console) fail(w http.ResponseWriter, s *session, status int, msg string) {
	c.render(w, status, "error", s, msg)
}

type incidentsView struct {
	State, Target, AlertName string
	States, Targets          []string
	Incidents                []*journal.Incident
	Limit                    int
}

// pageLimit bounds one listing.
const pageLimit = 200

func (c *Console) incidentsPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	v := incidentsView{
		State: q.Get("state"), Target: q.Get("target"), AlertName: q.Get("alertname"), Limit: pageLimit,
		States:  []string{journal.StateReceived, journal.StatePending, journal.StateQueued, journal.StateRunning, journal.StateDone},
		Targets: c.o.Config().TargetNames(),
	}
	f := journal.Filter{State: v.State, Target: v.Target, Limit: pageLimit}
	if v.AlertName != "" {
		f.Limit = 0 // filtered here, then bounded
	}
	incs, err := c.o.Backend.List(f)
	if err != nil {
		c.fail(w, s, http.StatusServiceUnavailable, "journal: "+err.Error())
		return
	}
	for _, inc := range incs {
		if v.AlertName == "" || inc.AlertName == v.AlertName {
			v.Incidents = append(v.Incidents, inc)
		}
		if len(v.Incidents) == pageLimit {
			break
		}
	}
	c.render(w, http.StatusOK, "incidents", s, v)
}

// step is one line of an incident's timeline.
type step struct {
	At     time.Time
	What   string
	Detail string
	Class  string // ok, bad or empty
	Output string
}

type kv struct{ Key, Value string }

type incidentView struct {
	Inc         *journal.Incident
	Steps       []step
	Labels      []kv
	Annotations []kv
	Evidence    []snapshot
	EvidenceErr string
	Links       []link
	Pending     bool
	TimeLeft    string
	// Outcome is the result of this browser's own approve or reject;
	// Conflict says plainly why it changed nothing.
	Outcome  string
	Conflict string
}

// outcomes are the messages after a successful POST, chosen by a fixed key
// in the redirect so that nothing from the URL reaches the page.
var outcomes = map[string]string{
	"approved": "You approved it: the action was queued to run on its target.",
	"rejected": "Rejected: nothing will be run for this incident.",
}

func (c *Console) incidentPage(w http.ResponseWriter, r *http.Request, s *session) {
	inc, ok := c.loadIncident(w, s, r.PathValue("id"))
	if !ok {
		return
	}
	v := c.incidentView(inc)
	v.Outcome = outcomes[r.URL.Query().Get("outcome")]
	c.render(w, http.StatusOK, "incident", s, v)
}

func (c *Console) loadIncident(w http.ResponseWriter, s *session, id string) (*journal.Incident, bool) {
	inc, err := c.o.Backend.Get(id)
	switch {
	case errors.Is(err, journal.ErrNotFound):
		c.fail(w, s, http.StatusNotFound, "No incident "+id+" in the journal (finished incidents are pruned after the journal's retention).")
		return nil, false
	case err != nil:
		c.fail(w, s, http.StatusServiceUnavailable, "journal: "+err.Error())
		return nil, false
	}
	return inc, true
}

func (c *Console) incidentView(inc *journal.Incident) incidentView {
	cfg := c.o.Config()
	v := incidentView{Inc: inc, Steps: timeline(inc), Labels: sorted(inc.Labels), Annotations: sorted(inc.Annotations)}
	v.Evidence, v.EvidenceErr = c.evidence(cfg.Diagnostics.Dir, inc.ID)
	v.Links = c.links(cfg, inc)
	if inc.State == journal.StatePending {
		v.Pending = true
		v.TimeLeft = timeLeft(inc, c.o.Now())
	}
	return v
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func sorted(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, kv{k, m[k]})
	}
	return out
}

func timeLeft(inc *journal.Incident, now time.Time) string {
	if inc.ExpiresAt == nil {
		return "no deadline"
	}
	left := inc.ExpiresAt.Sub(now)
	if left <= 0 {
		return "expired (no longer approvable)"
	}
	return left.Round(time.Second).String() + " left"
}

// timeline tells what the journal knows, in order. The journal keeps no
// separate time for a decision: it is the first attempt's start when the
// action ran, else the last update.
func timeline(inc *journal.Incident) []step {
	steps := []step{{At: inc.StartsAt, What: "alert started firing", Detail: inc.AlertName}}
	steps = append(steps, step{At: inc.ReceivedAt, What: "received", Detail: fmt.Sprintf("%d delivery(ies) from Alertmanager", inc.Deliveries)})
	decided := inc.UpdatedAt
	if len(inc.Actions) > 0 {
		decided = inc.Actions[0].StartedAt
	}
	switch {
	case inc.State == journal.StateReceived:
	case inc.Approved:
		steps = append(steps, step{At: decided, What: "held for approval, then approved", Detail: "policy " + inc.Policy + ": " + inc.Action + " on " + inc.Target, Class: "ok"})
	case inc.Decision != "":
		d := step{At: decided, What: "decision: " + strings.ReplaceAll(inc.Decision, "_", " "), Detail: inc.Reason}
		if inc.Decision == journal.DecisionPendingApproval && inc.State == journal.StatePending {
			d.Detail = "waits for a person until " + when(deref(inc.ExpiresAt))
		}
		if inc.Decision == journal.DecisionRejected || inc.Decision == journal.DecisionExpired {
			d.Class = "bad"
		}
		steps = append(steps, d)
	}
	for _, a := range inc.Actions {
		steps = append(steps, step{At: a.StartedAt, What: fmt.Sprintf("attempt %d: %s %s started", a.Attempt, a.Action, a.Target)})
		if a.EndedAt == nil {
			continue
		}
		end := step{At: *a.EndedAt, What: fmt.Sprintf("attempt %d: %s", a.Attempt, a.Result), Output: a.Output,
			Detail: fmt.Sprintf("took %s", a.EndedAt.Sub(a.StartedAt).Round(time.Millisecond))}
		if a.Verification != "" {
			end.Detail += "; verification: " + a.Verification
		}
		if a.Error != "" {
			end.Detail += "; error: " + a.Error
		}
		switch a.Result {
		case journal.ResultSuccess:
			end.Class = "ok"
		case journal.ResultPartial:
			end.Class = "partial"
		default:
			end.Class = "bad"
		}
		steps = append(steps, end)
	}
	if inc.ResolvedAt != nil {
		steps = append(steps, step{At: *inc.ResolvedAt, What: "alert resolved"})
	}
	if inc.State == journal.StateDone && len(inc.Actions) > 0 {
		steps = append(steps, step{At: inc.UpdatedAt, What: "done", Detail: inc.Reason})
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.At.Compare(b.At) })
	return steps
}

type approvalsView struct {
	Pending []pendingView
}

type pendingView struct {
	Inc      *journal.Incident
	TimeLeft string
}

func (c *Console) approvalsPage(w http.ResponseWriter, r *http.Request, s *session) {
	incs, err := c.o.Backend.List(journal.Filter{State: journal.StatePending, Limit: pageLimit})
	if err != nil {
		c.fail(w, s, http.StatusServiceUnavailable, "journal: "+err.Error())
		return
	}
	now := c.o.Now()
	v := approvalsView{}
	for _, inc := range incs {
		v.Pending = append(v.Pending, pendingView{Inc: inc, TimeLeft: timeLeft(inc, now)})
	}
	c.render(w, http.StatusOK, "approvals", s, v)
}

// settle approves or rejects. Success goes back to the incident (303, so a
// reload does not post again); when someone else decided first or the
// approval expired, the incident page says so with 409.
func (c *Console) settle(w http.ResponseWriter, r *http.Request, s *session, approve bool) {
	id := r.PathValue("id")
	var err error
	verb := "approved"
	if approve {
		_, err = c.o.Backend.Approve(id)
	} else {
		verb = "rejected"
		_, err = c.o.Backend.Reject(id, r.PostFormValue("reason"))
	}
	if err == nil {
		c.o.Logger.Info("incident "+verb+" from the console", "incident", id, "remote", r.RemoteAddr)
		http.Redirect(w, r, c.base+"/incidents/"+id+"?outcome="+verb, http.StatusSeeOther)
		return
	}
	// Whatever the error, the journal tells whether the incident could
	// still be settled: a conflict is an incident no longer pending.
	inc, ok := c.loadIncident(w, s, id)
	if !ok {
		return
	}
	if inc.State == journal.StatePending {
		c.fail(w, s, http.StatusServiceUnavailable, "The journal did not take the decision: "+err.Error())
		return
	}
	v := c.incidentView(inc)
	v.Conflict = conflict(inc, approve)
	c.render(w, http.StatusConflict, "incident", s, v)
}

func conflict(inc *journal.Incident, approve bool) string {
	what := "rejection"
	if approve {
		what = "approval"
	}
	if inc.Decision == journal.DecisionExpired {
		return fmt.Sprintf("Too late: the approval expired (%s). Your %s changed nothing; nothing was run.", inc.Reason, what)
	}
	msg := fmt.Sprintf("Someone else decided first: the incident is %s", inc.State)
	if inc.Decision != "" {
		msg += ", decision " + inc.Decision
	}
	if inc.Reason != "" {
		msg += " (" + inc.Reason + ")"
	}
	return msg + ". Your " + what + " changed nothing."
}

type targetView struct {
	T            *journal.Target
	AttemptsUsed int
	AttemptsLeft int
	Window       string
	Cooldown     string
	LastVersion  *journal.Version
}

type targetsView struct {
	Targets []targetView
	Reset   string
}

func (c *Console) targetsPage(w http.ResponseWriter, r *http.Request, s *session) {
	reset := r.URL.Query().Get("reset")
	states, err := c.o.Backend.Targets()
	if err != nil {
		c.fail(w, s, http.StatusServiceUnavailable, "journal: "+err.Error())
		return
	}
	l := c.o.Config().Limits
	now := c.o.Now()
	v := targetsView{}
	for _, ts := range states {
		tv := targetView{T: ts, Window: l.Window.String()}
		cut := now.Add(-time.Duration(l.Window))
		for _, at := range ts.Attempts {
			if at.After(cut) {
				tv.AttemptsUsed++
			}
		}
		tv.AttemptsLeft = max(l.MaxAttempts-tv.AttemptsUsed, 0)
		if !ts.LastEnd.IsZero() {
			if left := ts.LastEnd.Add(time.Duration(l.Cooldown)).Sub(now); left > 0 {
				tv.Cooldown = left.Round(time.Second).String() + " left"
			}
		}
		if n := len(ts.Versions); n > 0 {
			tv.LastVersion = &ts.Versions[n-1]
		}
		v.Targets = append(v.Targets, tv)
		if ts.Name == reset {
			v.Reset = reset
		}
	}
	c.render(w, http.StatusOK, "targets", s, v)
}

func (c *Console) resetCircuit(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	if err := c.o.Backend.ResetCircuit(name); err != nil {
		status := http.StatusServiceUnavailable
		if c.o.Config().Target(name) == nil {
			status = http.StatusNotFound
		}
		c.fail(w, s, status, "Reset circuit: "+err.Error())
		return
	}
	c.o.Logger.Info("circuit reset from the console", "target", name, "remote", r.RemoteAddr)
	http.Redirect(w, r, c.base+"/targets?reset="+url.QueryEscape(name), http.StatusSeeOther)
}
