//go:build linux

package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	expconfig "github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	remconfig "github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// TestLoopLeakWaitsForQuietMoment: memory leaks, OpenClawGatewayMemoryLeak
// predicts the limit hours ahead (here minutes: the horizon shortened) and
// carries remediation_timing="quiet"; the remediator's quiet policy holds
// the restart while an agent turn is in flight on the simulator (the
// incident received, waiting_quiet, the gateway's pid unchanged), and
// restarts the gateway once the turn ends.
func TestLoopLeakWaitsForQuietMoment(t *testing.T) {
	t.Parallel()
	o := rpcLoop(t, "loop-quiet-token")
	setToken := o.gateway
	o.gateway = func(g *expconfig.Gateway) { setToken(g); g.MemoryLimitBytes = 1 << 30 }
	// The prediction fires seconds into the leak; the limit itself (and
	// the critical alert that restarts at once) stays minutes away.
	o.override = "{ _config+:: { leakFor: '5s', leakHorizonSeconds: 900, leakMinUptimeSeconds: 1 } }"
	// The default quiet_moment policy with a wait short enough to look
	// every second (within/120).
	o.remediator = func(c *remconfig.Config) {
		c.Policies = []*remconfig.Policy{
			{Name: "quiet_moment", Matchers: []string{`remediation_timing="quiet"`, `remediation="restart"`},
				Quiet: &remconfig.Quiet{Within: model.Duration(2 * time.Minute), Then: remconfig.QuietThenApproval}},
			{Name: "by_label", Matchers: []string{`remediation=~"restart|restart_channel|cleanup_locks|cleanup_logs"`}},
		}
	}
	l := startLoop(t, o)
	pid := l.sim.PID
	l.sim.Fault(t, `{"kind":"agent_turn"}`)
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"memory_leak","bytes_per_second":"2MiB"}`)

	// The incident waits while the turn runs, looking at the gateway again
	// and again, and restarts nothing.
	const alert = "OpenClawGatewayMemoryLeak"
	var waiting incident
	simtest.Eventually(t, l.patience, func() error {
		for _, inc := range l.mustIncidents() {
			if inc.AlertName != alert || inc.Quiet == nil {
				continue
			}
			if inc.State == journal.StateReceived && inc.Decision == "" {
				return fmt.Errorf("admitted, not looked at yet: %+v", inc.Quiet)
			}
			if inc.State != journal.StateReceived || inc.Decision != journal.DecisionWaitingQuiet {
				t.Fatalf("the leak incident did not wait for the turn: %+v %+v", inc, inc.Quiet)
			}
			if inc.Quiet.CheckedAt == nil || inc.Quiet.CheckedAt.Sub(inc.ReceivedAt) < 3*time.Second {
				return fmt.Errorf("waiting, not yet 3s of looks: %+v", inc.Quiet)
			}
			waiting = inc
			return nil
		}
		return fmt.Errorf("no %s incident yet", alert)
	})
	if waiting.Quiet.ActiveTurns != 1 || waiting.Quiet.Error != "" || waiting.Labels["remediation_timing"] != "quiet" {
		t.Errorf("waiting incident: %+v %+v", waiting, waiting.Quiet)
	}
	if now, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port); err != nil || now != pid {
		t.Fatalf("gateway pid %d (%v) during the agent turn, want %d untouched", now, err, pid)
	}
	simtest.Eventually(t, l.patience, func() error {
		if v := l.scalar(`max(openclaw_remediator_quiet_waits)`); v != 1 {
			return fmt.Errorf("openclaw_remediator_quiet_waits = %v", v)
		}
		return nil
	})

	// The turn ends: the restart follows.
	ended := time.Now()
	if code, body := l.sim.Control(t, http.MethodDelete, "/faults/agent_turn", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE /faults/agent_turn: %d %s", code, body)
	}
	tl := l.recover(fault, alert, "restart", l.restartedFrom(pid, func(st openclawState) error {
		if st.rss > 256<<20 {
			return fmt.Errorf("%d bytes resident after the restart", st.rss)
		}
		return nil
	}))
	for _, inc := range l.mustIncidents() {
		if inc.ID != waiting.ID {
			continue
		}
		if inc.Quiet.Outcome != journal.QuietFound || len(inc.Actions) != 1 || inc.Actions[0].StartedAt.Before(ended) {
			t.Errorf("the restart: %+v %+v", inc, inc.Quiet)
		}
	}
	l.logScenario("memory_leak_quiet", tl)
}
