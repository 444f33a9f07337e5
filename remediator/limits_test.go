package remediator_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// healthyTarget is a target whose driver runs /bin/true and whose URL is a
// gateway that always answers healthy, so that every restart succeeds. With
// a build id its Control UI page names it, as the real gateway's does.
func healthyTarget(t *testing.T, buildID ...string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			if len(buildID) == 0 {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, `<!doctype html><html lang="en" %s="%s"><head></head></html>`, openclaw.BuildIDAttr, html.EscapeString(buildID[0]))
		case "/healthz":
			w.Write([]byte(`{"ok":true,"status":"live"}`))
		case "/readyz":
			w.Write([]byte(`{"ready":true,"failing":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return fmt.Sprintf(`
  - name: default
    url: %s
    state_dir: %s
    log_dirs: [%s]
    verify: {timeout: 5s, interval: 20ms}
    driver: {kind: command, start: [/bin/true], stop: [/bin/true]}
`, srv.URL, t.TempDir(), t.TempDir())
}

// Attempts per window and the cooldown are journaled: a restart of the
// remediator does not hand out fresh attempts.
func TestLimitsSurviveRestart(t *testing.T) {
	for _, tc := range []struct {
		name, limits string
		before       int // successful restarts before the remediator restarts
		want         string
	}{
		{"attempts per window", `{cooldown: 1ms, max_attempts: 2, window: 1h, retry_delay: 10ms}`, 2, journal.DecisionRateLimited},
		{"cooldown", `{cooldown: 1h, max_attempts: 3, window: 1h, retry_delay: 10ms}`, 1, journal.DecisionCooldown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := remtest.NewFakeClock(t0)
			h := harness.NewWith(t, "limits: "+tc.limits+"\ntargets:"+healthyTarget(t), harness.Options{Now: clock.Now})
			fp := func(i int) string { return fmt.Sprintf("6f8b1a2c3d4e5f%02d", i) }
			id := func(i int) string { return journal.ID(fp(i), mustTime("2026-11-20T22:41:07.118Z")) }
			for i := range tc.before {
				h.Post(remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", fp(i)))
				inc := h.WaitIncident(id(i), 10*time.Second, remtest.Done)
				if inc.Decision != journal.DecisionExecuted || inc.Actions[0].Result != journal.ResultSuccess {
					t.Fatalf("restart %d: %+v", i, inc)
				}
				clock.Add(time.Minute)
			}
			h.Restart()
			h.Post(remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", fp(tc.before)))
			inc := h.WaitIncident(id(tc.before), 10*time.Second, remtest.Done)
			if inc.Decision != tc.want || len(inc.Actions) != 0 {
				t.Fatalf("after the restart: decision %q (%s), want %q", inc.Decision, inc.Reason, tc.want)
			}
			if got := h.Value("openclaw_remediator_incidents_total", "decision", tc.want); got != 1 {
				t.Errorf("incidents_total{decision=%q} = %v", tc.want, got)
			}
		})
	}
}

// A successful restart records the version the gateway runs, but only one
// that a rollback could use: a version the target's pattern refuses never
// enters the journal.
func TestOnlyValidVersionsAreRecorded(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, buildID string
		want                   []string
	}{
		{"default pattern", "", "2026.9.6-release-eb377ac59e6c", []string{"2026.9.6"}},
		{"pre-release", "", "2026.10.1-beta.2-release-0a1b", []string{"2026.10.1-beta.2"}},
		{"refused by a narrower pattern", `^2026\.9\.1$`, "2026.9.6-release-eb377ac59e6c", nil},
		{"no version on the page", "", "nightly-build", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := healthyTarget(t, tc.buildID)
			if tc.pattern != "" {
				target += "    rollback: {version_pattern: '" + tc.pattern + "'}\n"
			}
			h := harness.New(t, remtest.LimitsForTests+"targets:"+target)
			h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
			if inc := h.WaitIncident(hungID, 10*time.Second, remtest.Done); inc.Actions[0].Result != journal.ResultSuccess {
				t.Fatalf("restart: %+v", inc.Actions)
			}
			ts, _ := h.J.Target("default")
			var got []string
			for _, v := range ts.Versions {
				got = append(got, v.Version)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("recorded %q, want %q", got, tc.want)
			}
		})
	}
}
