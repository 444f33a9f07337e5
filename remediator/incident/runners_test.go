package incident

import (
	"fmt"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// A runner ends once its target leaves the configuration and its queue is
// empty.
func TestRunnersEndWithTheirTarget(t *testing.T) {
	f := newFixture(t, "targets:"+remtest.CommandTarget(t, "default")+remtest.CommandTarget(t, "second"))
	f.admitted("logs", "cleanup_logs", func(i *journal.Incident) { i.Target = "second" })
	f.incs.runners.enqueue("second", "logs")
	remtest.WaitIncident(t, f.j.Incident, "logs", 10*time.Second, remtest.Done)
	if n := f.runnerCount(); n != 1 {
		t.Fatalf("%d runners after one incident, want 1", n)
	}
	cfg, err := config.Parse([]byte("targets:"+remtest.CommandTarget(t, "default")), t.TempDir(), actions.ConfigSpecs())
	if err != nil {
		t.Fatal(err)
	}
	f.live.Store(cfg)
	f.incs.Configured(cfg)
	simtest.Eventually(t, 10*time.Second, func() error {
		if n := f.runnerCount(); n != 0 {
			return fmt.Errorf("%d runners after the target left", n)
		}
		return nil
	})
}

func (f *fixture) runnerCount() int {
	f.incs.runners.mu.Lock()
	defer f.incs.runners.mu.Unlock()
	return len(f.incs.runners.byName)
}
