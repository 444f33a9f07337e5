package incident

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// actStage runs one attempt of the incident's action from the registry,
// with the driver the claim stage built. Its result is success (or
// partial) until verification says otherwise.
type actStage struct {
	journal *journal.Journal
	now     func() time.Time
	procs   openclaw.ProcFS
	// client is the target's HTTP client (its http_config).
	client func(target string) *http.Client
}

func (s actStage) Exec(ctx context.Context, a *Attempt) bool {
	a.Result = journal.ResultFailure
	if a.Action == nil {
		a.Err = fmt.Errorf("unknown action %q", a.Incident.Action)
		return true
	}
	t := a.Config.Target(a.Incident.Target)
	a.Env = &actions.Env{
		Config: a.Config, Target: t, Incident: a.Incident, Driver: a.Driver, Client: s.client(t.Name), Procs: s.procs, Now: s.now(),
		Versions: func() ([]journal.Version, error) {
			ts, err := s.journal.Target(t.Name)
			if err != nil {
				return nil, err
			}
			return ts.Versions, nil
		},
	}
	a.Output, a.Err = a.Action.Run(ctx, a.Env)
	switch {
	case errors.Is(a.Err, actions.ErrRefused):
		a.Result = journal.ResultRefused
	case errors.Is(a.Err, actions.ErrPartial):
		a.Result = journal.ResultPartial
	case a.Err == nil:
		a.Result = journal.ResultSuccess
	}
	return true
}
