// Package upgrade holds the parts of a guarded upgrade that need no
// remediator: the command for the version an operator asks for (checked by
// actions.CheckVersion, the rule rollbacks follow too), the plan of batches, and the observation of a batch through Prometheus' HTTP API.
// The remediator (upgrade.go there) runs the plan with its journal,
// drivers and verification.
package upgrade

import (
	"regexp"

	"github.com/clawwatch/clawwatch/remediator/actions"
)

// Argv substitutes a checked version (actions.CheckVersion) for {version}
// in a configured argv, as a rollback does: the version is one element (or
// part of one), never parsed by a shell.
func Argv(command []string, version string, re *regexp.Regexp) ([]string, error) {
	return actions.RollbackArgv(command, version, re)
}

// Batches splits targets, in the given order, into batches of at most size.
func Batches(targets []string, size int) [][]string {
	if size <= 0 {
		size = 1
	}
	var out [][]string
	for len(targets) > 0 {
		n := min(size, len(targets))
		out = append(out, targets[:n:n])
		targets = targets[n:]
	}
	return out
}
