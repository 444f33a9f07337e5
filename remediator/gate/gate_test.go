package gate

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

func limits(quiet time.Duration) config.Limits {
	q := model.Duration(quiet)
	return config.Limits{Cooldown: model.Duration(5 * time.Minute), MaxAttempts: 3, Window: model.Duration(time.Hour), QuietPeriod: &q}
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		state  journal.Target
		action string
		now    time.Time
		want   string
	}{
		{"fresh target", journal.Target{}, "restart", t0, ""},
		{"cooldown", journal.Target{LastEnd: t0.Add(-time.Minute), Attempts: []time.Time{t0.Add(-2 * time.Minute)}}, "restart", t0, journal.DecisionCooldown},
		{"cooldown over", journal.Target{LastEnd: t0.Add(-6 * time.Minute)}, "restart", t0, ""},
		{"three attempts in the hour", journal.Target{Attempts: []time.Time{t0.Add(-50 * time.Minute), t0.Add(-30 * time.Minute), t0.Add(-10 * time.Minute)}}, "restart", t0, journal.DecisionRateLimited},
		{"oldest attempt left the window", journal.Target{Attempts: []time.Time{t0.Add(-61 * time.Minute), t0.Add(-30 * time.Minute), t0.Add(-10 * time.Minute)}}, "restart", t0, ""},
		{"cleanups ignore attempts and cooldown", journal.Target{LastEnd: t0, Attempts: []time.Time{t0, t0, t0}}, "cleanup_locks", t0, ""},
		{"open circuit stops everything", journal.Target{CircuitOpen: true, OpenedAt: t0.Add(-time.Minute)}, "cleanup_logs", t0, journal.DecisionCircuitOpen},
		{"quiet period closes it", journal.Target{CircuitOpen: true, OpenedAt: t0.Add(-2 * time.Hour), LastHit: t0.Add(-61 * time.Minute)}, "restart", t0, ""},
		{"a recent hit keeps it open", journal.Target{CircuitOpen: true, OpenedAt: t0.Add(-2 * time.Hour), LastHit: t0.Add(-time.Minute)}, "restart", t0, journal.DecisionCircuitOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := tc.state
			got, reason := Decide(&ts, tc.action, limits(time.Hour), tc.now)
			if got != tc.want {
				t.Fatalf("decision %q (%s), want %q", got, reason, tc.want)
			}
		})
	}
}

func TestManualOnlyCircuitStaysOpen(t *testing.T) {
	t0 := time.Now()
	ts := journal.Target{CircuitOpen: true, OpenedAt: t0.Add(-100 * time.Hour)}
	if d, _ := Decide(&ts, "restart", limits(0), t0); d != journal.DecisionCircuitOpen {
		t.Fatalf("decision %q", d)
	}
	Reset(&ts)
	if d, _ := Decide(&ts, "restart", limits(0), t0); d != "" {
		t.Fatalf("after reset: %q", d)
	}
}

// The seeds' watchdog: at most three attempts, then stop and call a human.
func TestFailuresOpenTheCircuitAfterThreeAttempts(t *testing.T) {
	t0 := time.Now()
	ts := &journal.Target{}
	l := limits(0)
	var outcomes []Outcome
	for i := range 3 {
		now := t0.Add(time.Duration(i) * time.Second)
		Begin(ts, "restart", now)
		outcomes = append(outcomes, Finish(ts, "restart", false, l, now))
	}
	if outcomes[0] != Retry || outcomes[1] != Retry || outcomes[2] != Opened || !ts.CircuitOpen {
		t.Fatalf("outcomes %v, state %+v", outcomes, ts)
	}
	// A success resets the failure count.
	ts = &journal.Target{}
	Begin(ts, "restart", t0)
	Finish(ts, "restart", false, l, t0)
	Begin(ts, "restart", t0)
	if Finish(ts, "restart", true, l, t0) != Done || ts.Failures != 0 {
		t.Fatalf("after success: %+v", ts)
	}
}

// A refused action gives its attempt back, and only its own.
func TestWithdraw(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	ts := &journal.Target{}
	Begin(ts, "restart", t0)
	Begin(ts, "rollback", t0.Add(time.Minute))
	Withdraw(ts, "rollback", t0.Add(time.Minute))
	if len(ts.Attempts) != 1 || !ts.Attempts[0].Equal(t0) {
		t.Fatalf("attempts %v", ts.Attempts)
	}
	Withdraw(ts, "rollback", t0.Add(time.Hour)) // not an attempt on record
	Withdraw(ts, "cleanup_locks", t0)           // cleanups never count
	if len(ts.Attempts) != 1 {
		t.Fatalf("attempts %v", ts.Attempts)
	}
}
