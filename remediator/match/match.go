// Package match is the policy stage: it maps an alert's labels to an action
// and a configured target, or says why nothing applies. Label values are
// data: the action must be one the remediator knows and the target must be
// named in the configuration, so no label can reach a command or a path.
package match

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
)

// Result is the policy decision for one alert.
type Result struct {
	// Matched is false when no action applies; Reason says why.
	Matched  bool
	Reason   string
	Policy   string
	Action   string
	Target   string
	Exec     []string
	Verify   bool
	Approval bool
	DryRun   bool
	// Quiet is the policy's wait for a quiet moment, nil when it acts at
	// once.
	Quiet *config.Quiet
}

// Match applies the first policy whose matchers all match the labels.
func Match(c *config.Config, labels map[string]string) Result {
	for _, p := range c.Policies {
		if !matches(p, labels) {
			continue
		}
		r := Result{Policy: p.Name, Action: p.Action, Exec: p.Exec, Verify: p.Verify, Approval: p.Approval, DryRun: p.DryRun || c.DryRun, Quiet: p.Quiet}
		if r.Action == "" {
			r.Action = labels[c.ActionLabel]
			switch {
			case r.Action == "" || r.Action == actions.None:
				return Result{Policy: p.Name, Reason: fmt.Sprintf("label %s names no action", c.ActionLabel)}
			case !slices.Contains(actions.LabelNames(), r.Action):
				return Result{Policy: p.Name, Reason: fmt.Sprintf("label %s=%s is not an action", c.ActionLabel, Quote(r.Action))}
			}
		}
		name, ok := labels[c.TargetLabel]
		if !ok {
			return Result{Policy: p.Name, Reason: fmt.Sprintf("no %s label", c.TargetLabel)}
		}
		if c.Target(name) == nil {
			return Result{Policy: p.Name, Reason: fmt.Sprintf("target %s is not configured", Quote(name))}
		}
		r.Target, r.Matched = name, true
		if a, ok := actions.Lookup(r.Action); ok {
			r.Verify = r.Verify || a.Spec().Verified
		}
		return r
	}
	return Result{Reason: "no policy matches"}
}

// matches evaluates the matchers as Alertmanager does: a missing label is
// the empty string.
func matches(p *config.Policy, labels map[string]string) bool {
	for _, m := range p.Compiled() {
		if !m.Matches(labels[m.Name]) {
			return false
		}
	}
	return true
}

// Quote renders an untrusted value for a log line or a reason: quoted,
// escaped, and at most 64 bytes of it.
func Quote(s string) string {
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
