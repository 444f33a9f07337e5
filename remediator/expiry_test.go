package remediator_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// t0 is the fake clock's start, after the fixtures' startsAt.
var t0 = time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)

func pending(inc *journal.Incident) error {
	if inc.State != journal.StatePending {
		return fmt.Errorf("state %s (%s)", inc.State, inc.Reason)
	}
	return nil
}

func pendingGauge(h *harness.Harness) float64 {
	h.T.Helper()
	return h.Value("openclaw_remediator_pending_approvals")
}

// approve posts an approval and returns status and body.
func approve(h *harness.Harness, id string) (int, string) {
	h.T.Helper()
	resp, err := http.Post(h.Srv.URL+"/api/v1/incidents/"+id+"/approve", "", nil)
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A pending approval survives a restart of the remediator while its time
// runs, then expires: decision expired, counted, no longer pending, and a
// late approval is refused and runs nothing.
func TestApprovalExpiresAndSurvivesRestart(t *testing.T) {
	clock := remtest.NewFakeClock(t0)
	h := harness.NewWith(t, remtest.LimitsForTests+remtest.RestartNeedsApproval+remtest.CommandTarget(t, "default"),
		harness.Options{Now: clock.Now, Housekeeping: 10 * time.Millisecond})
	if code, _ := h.Post(remtest.Fixture(t, "firing_gateway_hung.json")); code != http.StatusOK {
		t.Fatalf("webhook: %d", code)
	}
	inc := h.WaitIncident(hungID, 10*time.Second, pending)
	if inc.ExpiresAt == nil || !inc.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("expires at %v, want %v", inc.ExpiresAt, t0.Add(time.Hour))
	}
	if g := pendingGauge(h); g != 1 {
		t.Fatalf("pending_approvals = %v", g)
	}

	// Half an hour later the remediator restarts: still pending, still
	// counted, and a housekeeping round leaves it alone.
	clock.Add(30 * time.Minute)
	h.Restart()
	if g := pendingGauge(h); g != 1 {
		t.Fatalf("pending_approvals after restart = %v", g)
	}
	h.Rem.Incidents().Housekeep(clock.Now())
	if inc, _ := h.J.Incident(hungID); inc.State != journal.StatePending {
		t.Fatalf("expired early: %+v", inc)
	}

	// Past the deadline housekeeping expires it.
	clock.Add(30 * time.Minute)
	inc = h.WaitIncident(hungID, 10*time.Second, remtest.Done)
	if inc.Decision != journal.DecisionExpired || len(inc.Actions) != 0 || !strings.Contains(inc.Reason, "2026-11-21T00:00:00Z") {
		t.Fatalf("after the deadline: %+v", inc)
	}
	if got := h.Value("openclaw_remediator_incidents_total", "decision", journal.DecisionExpired); got != 1 {
		t.Errorf(`incidents_total{decision="expired"} = %v`, got)
	}
	simtest.Eventually(t, 10*time.Second, func() error {
		if g := pendingGauge(h); g != 0 {
			return fmt.Errorf("pending_approvals = %v", g)
		}
		return nil
	})
	if age := h.Value("openclaw_remediator_pending_approval_oldest_age_seconds"); age != 0 {
		t.Errorf("pending_approval_oldest_age_seconds = %v", age)
	}

	code, body := approve(h, hungID)
	if code != http.StatusConflict || !strings.Contains(body, "decision expired") {
		t.Fatalf("approve after expiry: %d %s", code, body)
	}
	if inc, _ := h.J.Incident(hungID); inc.Decision != journal.DecisionExpired || inc.Approved || len(inc.Actions) != 0 {
		t.Fatalf("after the late approval: %+v", inc)
	}
	if got := h.Value("openclaw_remediator_incidents_total", "decision", journal.DecisionExpired); got != 1 {
		t.Errorf("expired counted again: %v", got)
	}
}

// An approval that arrives after the deadline but before housekeeping has
// noticed is too late all the same.
func TestApproveAfterDeadlineIsRefused(t *testing.T) {
	clock := remtest.NewFakeClock(t0)
	// Housekeeping never runs within the test: only the approval can see
	// that the time is up.
	h := harness.NewWith(t, remtest.LimitsForTests+remtest.RestartNeedsApproval+remtest.CommandTarget(t, "default"),
		harness.Options{Now: clock.Now, Housekeeping: time.Hour})
	h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
	h.WaitIncident(hungID, 10*time.Second, pending)
	clock.Add(time.Hour)
	code, body := approve(h, hungID)
	if code != http.StatusConflict || !strings.Contains(body, "approval expired") {
		t.Fatalf("late approve: %d %s", code, body)
	}
	inc, _ := h.J.Incident(hungID)
	if inc.State != journal.StateDone || inc.Decision != journal.DecisionExpired || inc.Approved || len(inc.Actions) != 0 {
		t.Fatalf("after the late approval: %+v", inc)
	}
	if got := h.Value("openclaw_remediator_incidents_total", "decision", journal.DecisionExpired); got != 1 {
		t.Errorf(`incidents_total{decision="expired"} = %v`, got)
	}
	if g := pendingGauge(h); g != 0 {
		t.Errorf("pending_approvals = %v", g)
	}
	// Rejecting it now is refused as well, and changes nothing.
	resp, err := http.Post(h.Srv.URL+"/api/v1/incidents/"+hungID+"/reject", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("reject after expiry: %s", resp.Status)
	}
	if got := h.Value("openclaw_remediator_incidents_total", "decision", journal.DecisionRejected); got != 0 {
		t.Errorf("rejected = %v", got)
	}
}
