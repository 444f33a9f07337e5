package console_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/console"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Every page and every change refuses a request without a signed-in
// session, and says nothing about the incidents; the refused changes change
// nothing.
func TestEveryPageRefusesUnauthenticatedRequests(t *testing.T) {
	r := newConsoleHarness(t)
	id := r.fire("a1a1a1a1a1a1a1a1")
	r.WaitIncident(id, 10*time.Second, remtest.InState(journal.StatePending))

	jar, _ := cookiejar.New(nil)
	stranger := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// A forged cookie is no session.
	jar.SetCookies(mustURL(t, r.Srv.URL+"/console/"), []*http.Cookie{{Name: "clawwatch_console", Value: "forged", Path: "/console/"}})
	for _, path := range []string{
		"/console/", "/console/incidents", "/console/incidents?state=pending", "/console/incidents/" + id,
		"/console/incidents/" + id + "/evidence/20260101T000000.000Z-default-" + id + "/process.txt",
		"/console/approvals", "/console/targets", "/console/alerts/a1a1a1a1a1a1a1a1/2026-01-01T00:00:00Z",
	} {
		p := get(t, stranger, r.Srv.URL+path)
		// The sign-in form names the page asked for (to return to it),
		// nothing of its content.
		if p.code != http.StatusUnauthorized || !strings.Contains(p.body, `id="sign-in"`) ||
			strings.Contains(p.body, "OpenClawGatewayHung") || strings.Contains(p.body, "data-incident") || strings.Contains(p.body, "<code>") {
			t.Errorf("GET %s without a session: %d\n%s", path, p.code, p.body)
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
	}
	for _, path := range []string{
		"/console/incidents/" + id + "/approve", "/console/incidents/" + id + "/reject",
		"/console/targets/default/reset", "/console/sign-out",
	} {
		// Same-origin, as far as the cross-origin check can tell: only the
		// missing session refuses it.
		req, _ := http.NewRequest(http.MethodPost, r.Srv.URL+path, strings.NewReader("csrf=x&reason=y"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := stranger.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d", path, resp.StatusCode)
		}
	}
	if inc, _ := r.J.Incident(id); inc.State != journal.StatePending {
		t.Fatalf("a refused request changed the incident: %+v", inc)
	}
	// The stylesheet is the one thing served before sign-in: the sign-in
	// page needs it, and it says nothing.
	if p := get(t, stranger, r.Srv.URL+"/console/static/console.css"); p.code != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", p.code, p.header.Get("Content-Type"))
	}
}

// The sign-in form takes only the bearer token; a session ends at sign-out
// and when the token file changes.
func TestSignIn(t *testing.T) {
	r := newConsoleHarness(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	p := postForm(t, c, r.Srv.URL+"/console/sign-in", url.Values{"token": {"wrong"}, "next": {"/console/targets"}})
	if p.code != http.StatusUnauthorized || !strings.Contains(p.body, "not the remediator&#39;s bearer token") {
		t.Fatalf("wrong token: %d\n%s", p.code, p.body)
	}
	if get(t, c, r.Srv.URL+"/console/targets").code != http.StatusUnauthorized {
		t.Fatal("a wrong token opened a session")
	}
	// next outside the console lands on the incidents page.
	p = postForm(t, c, r.Srv.URL+"/console/sign-in", url.Values{"token": {r.token}, "next": {"//evil.example/console/x"}})
	if p.code != http.StatusOK || !strings.Contains(p.body, `id="filters"`) {
		t.Fatalf("sign-in: %d\n%s", p.code, p.body)
	}
	for _, ck := range jar.Cookies(mustURL(t, r.Srv.URL+"/console/")) {
		if ck.Name == "clawwatch_console" && strings.Contains(ck.Value, r.token) {
			t.Fatal("the cookie holds the token")
		}
	}
	if p := get(t, c, r.Srv.URL+"/console/targets"); p.code != http.StatusOK || !strings.Contains(p.body, `data-target="default"`) {
		t.Fatalf("targets after sign-in: %d\n%s", p.code, p.body)
	}

	// A new token signs every browser out.
	if err := os.WriteFile(r.tokenFile, []byte("rotated-console-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.bearer.Reload(); err != nil {
		t.Fatal(err)
	}
	if p := get(t, c, r.Srv.URL+"/console/targets"); p.code != http.StatusUnauthorized {
		t.Fatalf("the session outlived the token: %d", p.code)
	}
	r.token = "rotated-console-token"
	c = r.signedIn()
	p = get(t, c, r.Srv.URL+"/console/approvals")
	if p = postForm(t, c, r.Srv.URL+"/console/sign-out", url.Values{"csrf": {csrfOf(t, p.body)}}); p.code != http.StatusOK || !strings.Contains(p.body, `id="sign-in"`) {
		t.Fatalf("sign-out: %d\n%s", p.code, p.body)
	}
	if p := get(t, c, r.Srv.URL+"/console/approvals"); p.code != http.StatusUnauthorized {
		t.Fatalf("after sign-out: %d", p.code)
	}
}

// A change needs the console's own origin and the session's form token:
// a cross-site POST with the right token, or a same-origin one without it,
// is refused and changes nothing; the real form's POST works.
func TestForgedPostsChangeNothing(t *testing.T) {
	r := newConsoleHarness(t)
	id := r.fire("b2b2b2b2b2b2b2b2")
	r.WaitIncident(id, 10*time.Second, remtest.InState(journal.StatePending))
	c := r.signedIn()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	token := csrfOf(t, get(t, c, r.Srv.URL+"/console/incidents/"+id).body)
	approve := r.Srv.URL + "/console/incidents/" + id + "/approve"
	for _, tc := range []struct {
		name    string
		headers map[string]string
		csrf    string
		want    int
	}{
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, token, http.StatusForbidden},
		{"same-site other origin", map[string]string{"Sec-Fetch-Site": "same-site"}, token, http.StatusForbidden},
		{"foreign Origin", map[string]string{"Origin": "http://evil.example"}, token, http.StatusForbidden},
		{"no form token", map[string]string{"Sec-Fetch-Site": "same-origin"}, "", http.StatusForbidden},
		{"wrong form token", map[string]string{"Sec-Fetch-Site": "same-origin"}, "not-the-token", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(http.MethodPost, approve, strings.NewReader(url.Values{"csrf": {tc.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if inc, _ := r.J.Incident(id); inc.State != journal.StatePending {
		t.Fatalf("a forged POST changed the incident: %+v", inc)
	}
	p := postForm(t, c, r.Srv.URL+"/console/incidents/"+id+"/reject", url.Values{"csrf": {token}, "reason": {"not\nnow <b>"}})
	if p.code != http.StatusSeeOther || p.header.Get("Location") != "/console/incidents/"+id+"?outcome=rejected" {
		t.Fatalf("reject with the form token: %d %v\n%s", p.code, p.header, p.body)
	}
	if inc, _ := r.J.Incident(id); inc.Decision != journal.DecisionRejected || inc.Reason != "rejected: not now <b>" {
		t.Fatalf("after the reject: %+v", inc)
	}
	// Too late now: 409, said plainly.
	p = postForm(t, c, approve, url.Values{"csrf": {token}})
	if p.code != http.StatusConflict || !strings.Contains(p.body, "Someone else decided first") || !strings.Contains(p.body, "rejected: not now &lt;b&gt;") {
		t.Fatalf("approve after the reject: %d\n%s", p.code, p.body)
	}
}

// The Alertmanager template's link (fingerprint and startsAt, all that a
// template knows) leads to the incident's page.
func TestAlertmanagerTemplateLinksToTheIncident(t *testing.T) {
	r := newConsoleHarness(t)
	id := r.fire("c3c3c3c3c3c3c3c3")
	inc := r.WaitIncident(id, 10*time.Second, remtest.InState(journal.StatePending))
	tmpl, err := amtemplate.FromGlobs([]string{filepath.Join("..", "..", "deploy", "alertmanager", "templates", "*.tmpl")})
	if err != nil {
		t.Fatal(err)
	}
	// The operator sets the remediator's URL in the template file.
	if err := tmpl.Parse(strings.NewReader(`{{ define "clawwatch.remediator.url" }}` + r.Srv.URL + `{{ end }}`)); err != nil {
		t.Fatal(err)
	}
	data := &amtemplate.Data{Alerts: amtemplate.Alerts{{
		Status: "firing", Labels: amtemplate.KV{"alertname": inc.AlertName, "gateway": "default"},
		Fingerprint: inc.Fingerprint, StartsAt: inc.StartsAt.In(time.FixedZone("CET", 3600)),
	}}}
	text, err := tmpl.ExecuteTextString(`{{ template "clawwatch.incident.links" . }}`, data)
	if err != nil {
		t.Fatal(err)
	}
	link := strings.TrimSpace(text[strings.Index(text, "http"):])
	p := get(t, r.signedIn(), link)
	if p.code != http.StatusOK || !strings.Contains(p.body, "<code>"+id+"</code>") {
		t.Fatalf("%q → %d\n%s", text, p.code, p.body)
	}
	if got := console.IncidentURL(mustURL(t, "https://ops.example/remediator/"), id); got != "https://ops.example/remediator/console/incidents/"+id {
		t.Errorf("IncidentURL = %q", got)
	}
}

// The incident page links to the dashboard that really exists.
func TestOverviewDashboardUID(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "dashboards", "openclaw-overview.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ UID string }
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID != console.OverviewDashboardUID {
		t.Fatalf("dashboards/openclaw-overview.json has uid %q, the console links to %q", d.UID, console.OverviewDashboardUID)
	}
}

// Behind a reverse proxy at an https external URL with a path: links and the
// cookie carry the path, the cookie is Secure, and the browser's Origin (the
// proxy's) is trusted.
func TestBehindAProxyAtTheExternalURL(t *testing.T) {
	r := newConsoleHarness(t)
	con, err := console.New(console.Options{Backend: r.Rem.Incidents(), Config: r.Rem.Config, Token: r.bearer.Matches, ExternalURL: mustURL(t, "https://ops.example/remediator/")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(con.Handler()) // the proxy strips /remediator
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/console/sign-in",
		strings.NewReader(url.Values{"token": {r.token}, "next": {"/remediator/console/targets"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://ops.example")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/remediator/console/targets" {
		t.Fatalf("sign-in: %d %v", resp.StatusCode, resp.Header)
	}
	cks := resp.Cookies()
	if len(cks) != 1 || !cks[0].Secure || !cks[0].HttpOnly || cks[0].SameSite != http.SameSiteStrictMode || cks[0].Path != "/remediator/console/" || cks[0].MaxAge != 0 {
		t.Fatalf("session cookie %+v", cks)
	}
}
