// Package console is the remediator's web console: server-rendered pages of
// incidents, their timeline and evidence, pending approvals and target
// circuits, with Approve, Reject and Reset circuit buttons. It has no
// script, no framework and no build step: html/template pages and one CSS
// file, embedded.
//
// It is served under the remediator's listener, after exporter-toolkit's
// basic auth or client certificates. When the remediator takes a bearer
// token, the console asks for it once in a sign-in form and keeps a random
// session id in a session cookie instead (see docs/configuration.md). Every
// change is a POST that must come from the console's own origin
// (net/http.CrossOriginProtection) and carry the session's CSRF token.
package console

import (
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Backend is what the pages read and change: the remediator's incidents
// (incident.Incidents). It is an interface so that the console depends on
// their behaviour, not on their insides.
type Backend interface {
	List(journal.Filter) ([]*journal.Incident, error)
	// Get returns an error wrapping journal.ErrNotFound for an unknown id.
	Get(id string) (*journal.Incident, error)
	// Targets is the gate's state of every configured target.
	Targets() ([]*journal.Target, error)
	Approve(id string) (*journal.Incident, error)
	Reject(id, reason string) (*journal.Incident, error)
	ResetCircuit(target string) error
}

// Options configure the console.
type Options struct {
	Backend Backend
	// Config is the remediator's live configuration.
	Config func() *config.Config
	// Token checks a bearer token typed into the sign-in form. Nil when the
	// remediator takes no bearer token: then the requests that reach the
	// console were authenticated by exporter-toolkit (basic auth, client
	// certificate), or the remediator runs with --web.insecure-no-auth.
	Token func(token string) bool
	// ExternalURL is where users reach the remediator (--web.external-url);
	// its path prefixes every link of the pages. Nil: served at the root.
	ExternalURL *url.URL
	// PrometheusURL and GrafanaURL, when set, add links from an incident
	// to the alert in Prometheus and to the overview dashboard.
	PrometheusURL *url.URL
	GrafanaURL    *url.URL
	Logger        *slog.Logger
	// Now is the clock of "time left"; nil: time.Now. Tests that move the
	// remediator's clock move this one too.
	Now func() time.Time
}

// Path is where the console is mounted on the remediator's listener.
const Path = "/console/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/console.css
var css []byte

// contentSecurityPolicy allows nothing but the console's own stylesheet and
// images: no script at all, no inline style, no framing, forms only to
// itself.
const contentSecurityPolicy = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Console serves the pages.
type Console struct {
	o        Options
	base     string // path prefix of every link, ending in /console
	pages    map[string]*template.Template
	sessions *sessions
	csrf     *http.CrossOriginProtection
}

// New builds the console.
func New(o Options) (*Console, error) {
	if o.Backend == nil || o.Config == nil {
		return nil, errors.New("console: no backend or no configuration")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Console{o: o, base: strings.TrimSuffix(Path, "/"), sessions: newSessions(12 * time.Hour), csrf: http.NewCrossOriginProtection()}
	if u := o.ExternalURL; u != nil {
		c.base = strings.TrimRight(u.Path, "/") + c.base
		// Behind a reverse proxy the browser's Origin is the external
		// one, which need not be the Host the remediator sees.
		if err := c.csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("console: external URL: %w", err)
		}
	}
	pages, err := parseTemplates(c.base)
	if err != nil {
		return nil, err
	}
	c.pages = pages
	return c, nil
}

// IncidentURL is the absolute address of an incident's page under the
// external URL.
func IncidentURL(external *url.URL, id string) string {
	return strings.TrimRight(external.String(), "/") + strings.TrimSuffix(Path, "/") + "/incidents/" + url.PathEscape(id)
}

// Handler serves the console under Path.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path+"static/console.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(css)
	})
	mux.HandleFunc("GET "+Path+"sign-in", c.signInPage)
	mux.Handle("POST "+Path+"sign-in", c.csrf.Handler(http.HandlerFunc(c.signIn)))

	page := func(pattern string, h func(http.ResponseWriter, *http.Request, *session)) {
		mux.Handle("GET "+Path+pattern, c.authed(h))
	}
	change := func(pattern string, h func(http.ResponseWriter, *http.Request, *session)) {
		mux.Handle("POST "+Path+pattern, c.csrf.Handler(c.authed(c.checkToken(h))))
	}
	page("{$}", func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, c.base+"/incidents", http.StatusSeeOther)
	})
	page("incidents", c.incidentsPage)
	page("incidents/{id}", c.incidentPage)
	page("incidents/{id}/evidence/{snapshot}/{file}", c.evidenceFile)
	page("alerts/{fingerprint}/{startsAt}", c.alertRedirect)
	page("approvals", c.approvalsPage)
	page("targets", c.targetsPage)
	change("incidents/{id}/approve", func(w http.ResponseWriter, r *http.Request, s *session) { c.settle(w, r, s, true) })
	change("incidents/{id}/reject", func(w http.ResponseWriter, r *http.Request, s *session) { c.settle(w, r, s, false) })
	change("targets/{name}/reset", c.resetCircuit)
	change("sign-out", c.signOut)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		// Form bodies are small: a reason, a token.
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		mux.ServeHTTP(w, r)
	})
}

// authed lets a request through to h with its session when it is
// authenticated, and answers the sign-in form (401) otherwise.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		if c.o.Token == nil {
			// exporter-toolkit authenticated the request, if anything
			// must; the session only carries the CSRF token.
			if s == nil {
				s = c.sessions.create("")
				c.setCookie(w, r, s.id, 0)
			}
			h(w, r, s)
			return
		}
		if s == nil || s.token == "" || !c.o.Token(s.token) {
			if r.Method != http.MethodGet {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			c.render(w, http.StatusUnauthorized, "sign-in", nil, signInView{Next: r.URL.RequestURI()})
			return
		}
		h(w, r, s)
	})
}

// checkToken refuses a POST whose form lacks the session's CSRF token.
// CrossOriginProtection already refused browsers' cross-origin requests;
// the token covers browsers too old to send Sec-Fetch-Site or Origin.
func (c *Console) checkToken(h func(http.ResponseWriter, *http.Request, *session)) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) != 1 {
			http.Error(w, "missing or stale form token: reload the page and try again", http.StatusForbidden)
			return
		}
		h(w, r, s)
	}
}

const cookieName = "clawwatch_console"

func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	return c.sessions.get(ck.Value)
}

// setCookie sets the session cookie: no expiry (gone when the browser
// closes), not readable by script, never sent with cross-site requests, and
// only over TLS when the console is served over TLS (here or at the proxy
// of an https external URL). A negative maxAge deletes it.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: c.base + "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || (c.o.ExternalURL != nil && c.o.ExternalURL.Scheme == "https"),
	})
}

type signInView struct {
	Next  string
	Error string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if c.o.Token == nil {
		http.Redirect(w, r, c.base+"/incidents", http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "sign-in", nil, signInView{Next: r.URL.Query().Get("next")})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if c.o.Token == nil {
		http.Redirect(w, r, c.base+"/incidents", http.StatusSeeOther)
		return
	}
	next := r.PostFormValue("next")
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" || !c.o.Token(tok) {
		c.o.Logger.Warn("console sign-in refused", "remote", r.RemoteAddr)
		c.render(w, http.StatusUnauthorized, "sign-in", nil, signInView{Next: next, Error: "That is not the remediator's bearer token."})
		return
	}
	if old := c.session(r); old != nil {
		c.sessions.drop(old.id) // a new id at sign-in: no session fixation
	}
	s := c.sessions.create(tok)
	c.setCookie(w, r, s.id, 0)
	c.o.Logger.Info("console sign-in", "remote", r.RemoteAddr)
	http.Redirect(w, r, c.localPath(next), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.drop(s.id)
	c.setCookie(w, r, "", -1)
	http.Redirect(w, r, c.base+"/sign-in", http.StatusSeeOther)
}

// localPath keeps a redirect target inside the console: anything else (an
// absolute URL, //host, a path outside) becomes the incidents page.
func (c *Console) localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, c.base+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return c.base + "/incidents"
	}
	return u.RequestURI()
}
