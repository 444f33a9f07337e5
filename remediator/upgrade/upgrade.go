// Package upgrade holds the parts of a guarded upgrade that need no
// remediator: the check of the version an operator asks for, the plan of
// batches, and the observation of a batch through Prometheus' HTTP API.
// The remediator (upgrade.go there) runs the plan with its journal,
// drivers and verification.
package upgrade

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/clawwatch/clawwatch/remediator/actions"
)

// ErrBadVersion marks a version refused before anything runs.
var ErrBadVersion = errors.New("version refused")

// MaxVersion bounds a version; OpenClaw's are about ten characters.
const MaxVersion = 64

// CheckVersion accepts a version only as data: not empty, short, not an
// option (a leading '-' would be read as a flag by the update command even
// as one argv element), no control character, NUL or slash, and matching
// the target's anchored version pattern.
func CheckVersion(v string, re *regexp.Regexp) error {
	switch {
	case v == "":
		return fmt.Errorf("%w: empty", ErrBadVersion)
	case len(v) > MaxVersion:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrBadVersion, len(v), MaxVersion)
	case strings.HasPrefix(v, "-"):
		return fmt.Errorf("%w: %q starts with '-'", ErrBadVersion, v)
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '/' }):
		return fmt.Errorf("%w: %q holds a control character or '/'", ErrBadVersion, v)
	case re == nil || !re.MatchString(v):
		return fmt.Errorf("%w: %q does not match the version pattern %s", ErrBadVersion, v, re)
	}
	return nil
}

// Argv substitutes a checked version for {version} in a configured argv,
// as a rollback does: the version is one element (or part of one), never
// parsed by a shell.
func Argv(command []string, version string, re *regexp.Regexp) ([]string, error) {
	if err := CheckVersion(version, re); err != nil {
		return nil, err
	}
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
