package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// envUpdateScreenshots makes the browser test write the incident page's
// screenshot to docs/console-incident.png, for the README.
const envUpdateScreenshots = "CLAWWATCH_UPDATE_SCREENSHOTS"

// browser is headless Chromium from Debian, driven over the DevTools
// protocol. `make chromium` installs it; without it the test is skipped,
// except under CI=true, where that is a failure.
type browser struct {
	t    *testing.T
	ctx  context.Context
	shot string // screenshots go here
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (make chromium); CI requires the browser test")
		}
		t.Skip("chromium is not installed; `make chromium` installs it")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	// The whole scenario's bound, so that a stuck browser fails the test
	// instead of hanging it.
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, shot: t.TempDir()}
	t.Logf("screenshots in %s", b.shot)
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads a page and returns its HTTP status.
func (b *browser) open(u string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("open %s: %v", u, err)
	}
	return resp.Status
}

// click clicks and returns the status of the page it leads to.
func (b *browser) click(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
	return resp.Status
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// screenshot saves the whole page as name.png in the test's directory.
func (b *browser) screenshot(name string) []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shot, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return png
}

// A person approves a pending restart, then a pending rollback, in the
// browser and sees each verified against the simulator; rejects another
// with a reason; is told plainly when someone else decided
// first or the approval expired; resets a circuit; and a cross-site form
// that posts to the console changes nothing.
func TestConsoleInBrowser(t *testing.T) {
	b := newBrowser(t)
	r := newConsoleHarness(t)
	base := r.Srv.URL + "/console"

	// Sign in: the page asked for answers the form, the token opens it.
	if code := b.open(base + "/approvals"); code != http.StatusUnauthorized {
		t.Fatalf("approvals before sign-in: %d", code)
	}
	b.screenshot("sign-in")
	b.do("wrong token", chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token"))
	if code := b.click("#sign-in-button"); code != http.StatusUnauthorized || !strings.Contains(b.text("#sign-in-error"), "not the remediator's bearer token") {
		t.Fatalf("wrong token: %d", code)
	}
	b.do("token", chromedp.SendKeys(chromedp.CSS("#token"), r.token))
	if code := b.click("#sign-in-button"); code != http.StatusOK || !strings.Contains(b.text("main"), "Nothing waits for approval") {
		t.Fatalf("sign-in: %d %q", code, b.text("main"))
	}

	// A hung gateway; Alertmanager's webhook; the restart waits for a person.
	r.sim.Fault(t, `{"kind":"hang"}`)
	hung := r.fire("d4d4d4d4d4d4d4d4")
	r.WaitIncident(hung, 10*time.Second, remtest.InState(journal.StatePending))
	b.open(base + "/approvals")
	row := fmt.Sprintf(`tr[data-incident="%s"]`, hung)
	if left := b.text(row + " .timeleft"); !strings.HasSuffix(left, "left") {
		t.Errorf("time left %q", left)
	}
	b.screenshot("approvals")
	b.open(base + "/incidents?state=pending")
	if got := b.text(fmt.Sprintf(`tr[data-incident="%s"]`, hung)); !strings.Contains(got, "OpenClawGatewayHung") || !strings.Contains(got, "pending_approval") {
		t.Errorf("incidents row %q", got)
	}
	b.screenshot("incidents")

	// Approve from the incident's page; watch it run and verify.
	b.open(base + "/incidents/" + hung)
	if code := b.click("#pending form.approve button"); code != http.StatusOK || !strings.Contains(b.text("#outcome"), "You approved it") {
		t.Fatalf("approve: %d", code)
	}
	simtest.Eventually(t, 90*time.Second, func() error {
		b.do("reload", chromedp.Reload())
		if s := b.text("#state"); s != journal.StateDone {
			return fmt.Errorf("page shows state %q", s)
		}
		return nil
	})
	timeline := b.text("#timeline")
	for _, want := range []string{"held for approval, then approved", "attempt 1: restart default started", "attempt 1: success", "verification: healthy after", "probes)"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	if d := b.text("#decision"); d != journal.DecisionExecuted {
		t.Errorf("decision %q", d)
	}
	if ev := b.text(".evidence"); !strings.Contains(ev, "process.txt") || !strings.Contains(ev, "healthz.txt") || !strings.Contains(ev, "log-tail.txt") {
		t.Errorf("evidence section %q", ev)
	}
	inc, _ := r.J.Incident(hung)
	if len(inc.Actions) != 1 || inc.Actions[0].Result != journal.ResultSuccess {
		t.Fatalf("journal: %+v", inc.Actions)
	}
	if err := simtest.Healthy(r.sim.URL); err != nil {
		t.Fatalf("the simulator after the approved restart: %v", err)
	}
	png := b.screenshot("incident")
	if os.Getenv(envUpdateScreenshots) == "1" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "console-incident.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The evidence downloads as stored.
	href, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(`.evidence a[href$="/process.txt"]`), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("download link: %v", err)
	}
	c := r.signedIn()
	dl := get(t, c, r.Srv.URL+href.Value)
	if dl.code != http.StatusOK || !strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment") || !strings.Contains(dl.body, "pid: ") {
		t.Errorf("download %s: %d %v\n%s", href.Value, dl.code, dl.header, dl.body)
	}

	// The gateway is upgraded and reasons worse: the rollback to the version
	// the restart verified healthy waits for a person, who approves it here.
	r.upgrade(badVersion)
	rollback := r.fireAlert(rollbackAlert, "c9c9c9c9c9c9c9c9")
	r.WaitIncident(rollback, 10*time.Second, remtest.InState(journal.StatePending))
	b.open(base + "/approvals")
	if code := b.click(fmt.Sprintf(`tr[data-incident="%s"] form.approve button`, rollback)); code != http.StatusOK {
		t.Fatalf("approve the rollback: %d", code)
	}
	simtest.Eventually(t, 90*time.Second, func() error {
		b.do("reload", chromedp.Reload())
		if s := b.text("#state"); s != journal.StateDone {
			return fmt.Errorf("page shows state %q", s)
		}
		return nil
	})
	timeline = b.text("#timeline")
	for _, want := range []string{"attempt 1: rollback default started", "attempt 1: success", "verification: healthy after", "runs " + goodVersion} {
		if !strings.Contains(timeline, want) {
			t.Errorf("rollback timeline lacks %q:\n%s", want, timeline)
		}
	}
	b.screenshot("rollback")
	r.waitVersion(goodVersion)

	// Rejected, with a reason that is shown as text, not markup.
	rejected := r.fire("e5e5e5e5e5e5e5e5")
	r.WaitIncident(rejected, 10*time.Second, remtest.InState(journal.StatePending))
	b.open(base + "/incidents/" + rejected)
	b.do("reason", chromedp.SendKeys(chromedp.CSS("#pending form.reject input[name=reason]"), "<b>not during the demo</b>"))
	if code := b.click("#pending form.reject button"); code != http.StatusOK || !strings.Contains(b.text("#outcome"), "Rejected") {
		t.Fatalf("reject: %d", code)
	}
	if got := b.text("#reason"); got != "rejected: <b>not during the demo</b>" {
		t.Errorf("reason on the page %q", got)
	}
	if inc, _ := r.J.Incident(rejected); inc.Decision != journal.DecisionRejected || len(inc.Actions) != 0 {
		t.Errorf("journal after reject: %+v", inc)
	}

	// Someone else (the CLI) rejects while the page is open: approving
	// then is a 409 that says so.
	raced := r.fire("f6f6f6f6f6f6f6f6")
	r.WaitIncident(raced, 10*time.Second, remtest.InState(journal.StatePending))
	b.open(base + "/incidents/" + raced)
	if code, body := r.api(http.MethodPost, "/api/v1/incidents/"+raced+"/reject?reason=handled+by+hand", ""); code != http.StatusOK {
		t.Fatalf("reject through the API: %d %s", code, body)
	}
	if code := b.click("#pending form.approve button"); code != http.StatusConflict {
		t.Fatalf("approve after someone else rejected: %d", code)
	}
	if got := b.text("#conflict"); !strings.Contains(got, "Someone else decided first") || !strings.Contains(got, "handled by hand") {
		t.Errorf("conflict %q", got)
	}
	b.screenshot("conflict")

	// The approval expires while the page is open.
	late := r.fire("a7a7a7a7a7a7a7a7")
	r.WaitIncident(late, 10*time.Second, remtest.InState(journal.StatePending))
	b.open(base + "/incidents/" + late)
	r.clock.Advance(2 * time.Hour)
	if code := b.click("#pending form.approve button"); code != http.StatusConflict {
		t.Fatalf("approve after expiry: %d", code)
	}
	if got := b.text("#conflict"); !strings.Contains(got, "Too late: the approval expired") {
		t.Errorf("conflict %q", got)
	}
	if inc, _ := r.J.Incident(late); inc.Decision != journal.DecisionExpired || len(inc.Actions) != 0 {
		t.Errorf("journal after the late approval: %+v", inc)
	}

	// A page on another origin posts the console's approve form, with the
	// right form token even and the session cookie (same site): refused,
	// nothing changes.
	r.clock.Advance(-2 * time.Hour)
	target := r.fire("b8b8b8b8b8b8b8b8")
	r.WaitIncident(target, 10*time.Second, remtest.InState(journal.StatePending))
	b.open(base + "/incidents/" + target)
	token := b.value("#pending form.approve input[name=csrf]")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!DOCTYPE html><form method="post" action="%s/incidents/%s/approve">
<input type="hidden" name="csrf" value="%s"><button id="win">Win a prize</button></form>`, base, target, token)
	}))
	defer evil.Close()
	b.open(evil.URL)
	if code := b.click("#win"); code != http.StatusForbidden {
		t.Errorf("cross-site POST answered %d", code)
	}
	b.screenshot("cross-site-refused")
	if inc, _ := r.J.Incident(target); inc.State != journal.StatePending || inc.Approved {
		t.Fatalf("the cross-site POST changed the incident: %+v", inc)
	}

	// Targets: the version the restart verified healthy; an open circuit
	// closed by hand.
	err = r.J.Update(func(tx journal.Tx) error {
		ts, err := tx.Target("default")
		if err != nil {
			return err
		}
		ts.CircuitOpen, ts.OpenedAt, ts.Reason = true, time.Now(), "restart failed 3 time(s) in a row"
		return tx.PutTarget(ts)
	})
	if err != nil {
		t.Fatal(err)
	}
	b.open(base + "/targets")
	trow := b.text(`tr[data-target="default"]`)
	for _, want := range []string{"open", "restart failed 3 time(s) in a row", goodVersion, "1 (2 used in the last 1h)"} {
		if !strings.Contains(trow, want) {
			t.Errorf("targets row lacks %q: %q", want, trow)
		}
	}
	b.screenshot("targets")
	if code := b.click(`tr[data-target="default"] button`); code != http.StatusOK || !strings.Contains(b.text("#outcome"), "closed") {
		t.Fatalf("reset circuit: %d", code)
	}
	if ts, _ := r.J.Target("default"); ts.CircuitOpen {
		t.Fatalf("circuit still open: %+v", ts)
	}

	// Signed out, every page is the sign-in form again.
	b.do("sign out", chromedp.Click(chromedp.CSS("form.signout button")), chromedp.WaitVisible(chromedp.CSS("#token")))
	for _, p := range []string{"/incidents", "/incidents/" + hung, "/approvals", "/targets"} {
		if code := b.open(base + p); code != http.StatusUnauthorized {
			t.Errorf("%s after sign-out: %d", p, code)
		}
	}
}
