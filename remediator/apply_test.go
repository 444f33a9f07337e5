package remediator

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

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
