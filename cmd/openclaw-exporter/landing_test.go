package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

var href = regexp.MustCompile(`href="([^"]+)"`)

// TestLandingPageLinks: every link on the landing page answers 2xx (none to
// a /debug/pprof/ the exporter does not serve), and /-/healthy and /-/ready
// are among them.
func TestLandingPageLinks(t *testing.T) {
	addr := startExporter(t, "")
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(u string) (int, string, error) {
		resp, err := client.Get(u)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	base, _ := url.Parse("http://" + addr + "/")
	var page string
	simtest.Eventually(t, 30*time.Second, func() error {
		code, body, err := get(base.String())
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("landing page: %d", code)
		}
		page = body
		return err
	})
	var links []string
	for _, m := range href.FindAllStringSubmatch(page, -1) {
		links = append(links, m[1])
	}
	for _, want := range []string{"/metrics", "/-/healthy", "/-/ready"} {
		if !strings.Contains(strings.Join(links, " "), want) {
			t.Errorf("landing page does not link %s; links: %v", want, links)
		}
	}
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
		code, _, err := get(u.String())
		if err != nil || code/100 != 2 {
			t.Errorf("link %s: %d %v", l, code, err)
		}
	}
}

// TestCollectorFlags: --no-collector.<name> leaves that collector out; the
// others stay.
func TestCollectorFlags(t *testing.T) {
	body := serveOnce(t, "", "--no-collector.logs", "--no-collector.locks")
	for _, c := range []string{"logs", "locks"} {
		if strings.Contains(body, `collector="`+c+`"`) {
			t.Errorf("--no-collector.%s: its series are still there", c)
		}
	}
	for _, c := range []string{"gateway", "process"} {
		if !strings.Contains(body, `openclaw_exporter_collector_success{collector="`+c+`"`) {
			t.Errorf("collector %s missing", c)
		}
	}
}
