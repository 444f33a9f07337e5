package remediator_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
)

// A reload swaps targets and policies in; what is fixed at start is named in
// the log instead of silently ignored.
func TestApplyNamesWhatNeedsARestart(t *testing.T) {
	h := harness.New(t, "workers: 2\ntargets:"+remtest.CommandTarget(t, "default"))
	cfg, err := config.Parse([]byte("workers: 3\njournal: {path: other.db}\ntargets:"+remtest.CommandTarget(t, "default")+remtest.CommandTarget(t, "second")), t.TempDir(), actions.ConfigSpecs())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Rem.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if got := h.Rem.Config().TargetNames(); strings.Join(got, ",") != "default,second" {
		t.Errorf("targets after the reload: %v", got)
	}
	if n, err := testutil.GatherAndCount(h.Reg, "openclaw_remediator_circuit_open"); err != nil || n != 2 {
		t.Errorf("%d circuit_open series, want one per target", n)
	}
	for _, want := range []string{"workers changes only with a restart", "journal.path changes only with a restart"} {
		if !strings.Contains(h.Logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
