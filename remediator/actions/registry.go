package actions

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// registry is every action the remediator knows, in the order metrics and
// docs show them. Adding an action is a file with its type and a line here.
var registry = []Action{
	restartAction{},
	cleanupLocksAction{},
	cleanupLogsAction{},
	rollbackAction{},
	execAction{},
	restartChannelAction{},
}

// None is the action label's value that names no action on purpose.
const None = "none"

// Spec is what the rest of the remediator knows of an action: configuration
// validation, the gate, match's defaults and the runner read it here only.
type Spec struct {
	Name string
	// Disruptive actions stop or replace the gateway: they count as
	// attempts, wait for the cooldown, are retried and open the circuit.
	Disruptive bool
	// Verified actions are followed by the gateway's health verification
	// whatever the policy says.
	Verified bool
	// RecordsVersion: after a verified success the running version is
	// recorded as healthy, for a later rollback.
	RecordsVersion bool
	// ByLabel: an alert's action label may name it. Otherwise only a policy
	// may (exec, whose argv comes from the operator, never from alerts).
	ByLabel bool
	// Approval: the default policies hold it for a person's approval.
	Approval bool
	// Argv: it runs the policy's exec argv, which it then requires.
	Argv bool
}

// Action is one thing the remediator does to a gateway.
type Action interface {
	Spec() Spec
	// Run does it once. An error wrapping ErrRefused means nothing was
	// touched; one wrapping ErrPartial, that the rest was done;
	// Result.Output is journaled either way.
	Run(ctx context.Context, env *Env) (Result, error)
}

// ErrPartial marks an action that did what it safely could and left the
// rest alone, naming it: not a failure (nothing went wrong that trying
// again would fix), but not the whole job either.
var ErrPartial = errors.New("partial")

// Env is what an action runs with: its incident, the target's
// configuration and the ways to reach the gateway.
type Env struct {
	Config   *config.Config
	Target   *config.Target
	Incident *journal.Incident
	Driver   driver.Driver
	Client   *http.Client
	Procs    openclaw.ProcFS
	Now      time.Time
	// Versions reads the target's verified-healthy versions, most recent
	// last.
	Versions func() ([]journal.Version, error)
}

// RunningVersion asks the gateway which version it runs: its Control UI,
// else the install its process runs from.
func (e *Env) RunningVersion(ctx context.Context) (string, error) {
	v, err := openclaw.DiscoverVersion(ctx, e.Client, e.Target.URL, e.Procs, driver.PID(e.Driver))
	if err != nil {
		return "", err
	}
	return v.Version, nil
}

// Result is what an action reports besides its error.
type Result struct {
	Output string
	// Verify asks for verification of an action that is not Verified by
	// default (exec with verify: true).
	Verify bool
	// Version is the version verification must find running (a rollback's).
	Version string
}

// Lookup returns the named action.
func Lookup(name string) (Action, bool) {
	i := slices.IndexFunc(registry, func(a Action) bool { return a.Spec().Name == name })
	if i < 0 {
		return nil, false
	}
	return registry[i], true
}

// Disruptive reports whether the named action stops or replaces the
// gateway; an unknown name is not.
func Disruptive(name string) bool {
	a, ok := Lookup(name)
	return ok && a.Spec().Disruptive
}

// Names lists every action's name in the registry's order.
func Names() []string {
	out := make([]string, len(registry))
	for i, a := range registry {
		out[i] = a.Spec().Name
	}
	return out
}

// LabelNames lists the actions an alert's label may name.
func LabelNames() []string {
	var out []string
	for _, a := range registry {
		if s := a.Spec(); s.ByLabel {
			out = append(out, s.Name)
		}
	}
	return out
}

// ConfigSpecs is what configuration loading (config.Load) knows of the
// actions: which a policy or a label may name, and which need approval.
func ConfigSpecs() []config.ActionSpec {
	out := make([]config.ActionSpec, len(registry))
	for i, a := range registry {
		s := a.Spec()
		out[i] = config.ActionSpec{Name: s.Name, ByLabel: s.ByLabel, Approval: s.Approval, Argv: s.Argv}
	}
	return out
}
