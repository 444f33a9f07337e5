package remediator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/remediator/config"
)

// A reload swaps targets and policies in; what is fixed at start is named in
// the log instead of silently ignored.
func TestApplyNamesWhatNeedsARestart(t *testing.T) {
	h := newHarness(t, "workers: 2\ntargets:"+commandTarget(t, "default"))
	cfg, err := config.Parse([]byte("workers: 3\njournal: {path: other.db}\ntargets:"+commandTarget(t, "default")+commandTarget(t, "second")), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.rem.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if got := h.rem.Config().TargetNames(); strings.Join(got, ",") != "default,second" {
		t.Errorf("targets after the reload: %v", got)
	}
	if n := testutil.CollectAndCount(h.rem.m.circuit); n != 2 {
		t.Errorf("%d circuit_open series, want one per target", n)
	}
	for _, want := range []string{"workers changes only with a restart", "journal.path changes only with a restart"} {
		if !strings.Contains(h.logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// A runner ends once its target leaves the configuration and its queue is
// empty; an alert for the target after that starts a new one, which decides
// it without acting.
func TestApplyStopsRunnersOfRemovedTargets(t *testing.T) {
	h := newHarness(t, "targets:"+commandTarget(t, "default")+commandTarget(t, "second"))
	body := withLabels(t, fixture(t, "firing_gateway_hung.json"), map[string]string{"gateway": "second", "remediation": "cleanup_logs"})
	_, ack := h.post(body)
	if len(ack.Incidents) != 1 {
		t.Fatalf("ack %+v", ack)
	}
	h.waitIncident(ack.Incidents[0], 10*time.Second, done)
	if n := h.runnerCount(); n != 1 {
		t.Fatalf("%d runners after one incident, want 1", n)
	}
	cfg, err := config.Parse([]byte("targets:"+commandTarget(t, "default")), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.rem.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	simtest.Eventually(t, 10*time.Second, func() error {
		if n := h.runnerCount(); n != 0 {
			return fmt.Errorf("%d runners after the target left", n)
		}
		return nil
	})
}

func (h *harness) runnerCount() int {
	h.rem.mu.Lock()
	defer h.rem.mu.Unlock()
	return len(h.rem.runners)
}
