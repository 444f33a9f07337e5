package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// The binary serves the console behind the bearer token's sign-in, and
// links to it from the landing page.
func TestConsoleIsServedBehindTheToken(t *testing.T) {
	_, cfg, tokenFile, _ := setup(t)
	p := startRemediator(t, cfg, tokenFile, simtest.FreePort(t))
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	fetch := func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := fetch(c.Get(p.url + "/console/incidents")); code != http.StatusUnauthorized || !strings.Contains(body, `id="sign-in"`) {
		t.Fatalf("console without a session: %d\n%s", code, body)
	}
	code, body := fetch(c.PostForm(p.url+"/console/sign-in", url.Values{"token": {token}, "next": {"/console/incidents"}}))
	if code != http.StatusOK || !strings.Contains(body, `id="filters"`) {
		t.Fatalf("sign-in: %d\n%s", code, body)
	}
	if code, body := fetch(http.Get(p.url + "/")); code != http.StatusOK || !strings.Contains(body, `href="/console/"`) {
		t.Errorf("landing page: %d\n%s", code, body)
	}
}

func TestRefusesABadExternalURL(t *testing.T) {
	_, cfg, tokenFile, _ := setup(t)
	out, err := exec.Command(testbin.Command(t, "openclaw-remediator"), "--config.file", cfg, "--web.bearer-token-file", tokenFile,
		"--web.listen-address", "127.0.0.1:0", "--web.external-url", "remediator.example/").CombinedOutput()
	if simtest.ExitCode(err) != 1 || !strings.Contains(string(out), `--web.external-url: \"remediator.example/\" is not an absolute http(s) URL`) {
		t.Fatalf("exit %v:\n%s", err, out)
	}
}
