package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

var href = regexp.MustCompile(`href="([^"]+)"`)

// TestLandingPageLinks: every link on the landing page answers 2xx to a
// client signed in to the console and sending the bearer token (none to a
// /debug/pprof/ the remediator does not serve).
func TestLandingPageLinks(t *testing.T) {
	_, cfg, tokenFile, _ := setup(t)
	p := startRemediator(t, cfg, tokenFile, simtest.FreePort(t))
	code, page := p.do(t, http.MethodGet, "/", nil)
	if code != http.StatusOK {
		t.Fatalf("landing page: %d", code)
	}
	base, _ := url.Parse(p.url + "/")
	var links []string
	for _, m := range href.FindAllStringSubmatch(string(page), -1) {
		links = append(links, m[1])
	}
	for _, want := range []string{"/metrics", "/console/", "/-/healthy", "/-/ready"} {
		if !strings.Contains(strings.Join(links, " "), want) {
			t.Errorf("landing page does not link %s; links: %v", want, links)
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(p.url+"/console/sign-in", url.Values{"token": {token}, "next": {"/console/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, l := range links {
		ref, err := url.Parse(l)
		if err != nil {
			t.Errorf("link %q: %v", l, err)
			continue
		}
		u := base.ResolveReference(ref)
		if u.Host != base.Host {
			continue // the toolkit's links to its own project pages
		}
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("link %s: %v", l, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Errorf("link %s: %s", l, resp.Status)
		}
	}
}
