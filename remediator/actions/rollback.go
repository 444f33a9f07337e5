package actions

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// ErrRefused marks an action that failed before it touched the gateway,
// because what it needs is missing or unsafe. Trying again cannot help, so
// it is neither retried nor counted as an attempt.
var ErrRefused = errors.New("refused")

// ErrNoRollbackVersion means no other version that passes the version
// pattern was ever verified healthy.
var ErrNoRollbackVersion = fmt.Errorf("%w: no other version that matches the version pattern was verified healthy", ErrRefused)

// rollbackAction installs the last version that verified healthy and has
// verification check that it runs.
type rollbackAction struct{}

func (rollbackAction) Spec() Spec {
	return Spec{Name: "rollback", Disruptive: true, Verified: true, RecordsVersion: true, ByLabel: true}
}

func (rollbackAction) Run(ctx context.Context, env *Env) (Result, error) {
	versions, err := env.Versions()
	if err != nil {
		return Result{}, err
	}
	t := env.Target
	current, _ := env.RunningVersion(ctx) // "" when not discoverable: any recorded version differs
	version, err := RollbackVersion(versions, current, t.Rollback.VersionRegexp())
	if err != nil {
		recorded := make([]string, len(versions))
		for i, v := range versions {
			recorded[i] = strconv.Quote(v.Version)
		}
		return Result{Output: fmt.Sprintf("running %q; verified healthy on record: [%s]", current, strings.Join(recorded, ", "))}, err
	}
	argv, err := RollbackArgv(t.Rollback.Command, version, t.Rollback.VersionRegexp())
	if err != nil {
		return Result{}, err
	}
	head := fmt.Sprintf("rollback %s -> %s", current, version)
	restart := RestartOf(t, env.Driver, env.Procs)
	var out string
	switch archive := backupOf(versions, version); {
	case archive != "" && t.Backup.Dir != "":
		head += " with the state archived before the upgrade"
		out, err = StateRestore{Target: t, Archive: archive, Install: argv, Now: env.Now, Restart: restart}.Run(ctx)
	case t.Update.Stop:
		out, err = RunStopped(ctx, t, restart, argv)
	default:
		out, err = driver.Run(ctx, argv, t.Driver.Dir, t.Driver.Env)
	}
	// The summary first and last: the journal keeps an output's tail.
	return Result{Output: head + "\n" + out + "\n" + head, Version: version}, err
}

// backupOf is the state archive recorded for version, if any.
func backupOf(versions []journal.Version, version string) string {
	for _, v := range versions {
		if v.Version == version {
			return v.Backup
		}
	}
	return ""
}

// ValidVersion reports whether v may go into a rollback argv: it matches the
// target's pattern and holds no NUL byte or slash, whatever the pattern allows.
func ValidVersion(v string, re *regexp.Regexp) bool {
	return re.MatchString(v) && !strings.ContainsAny(v, "\x00/")
}

// RollbackVersion picks the most recently verified-healthy version that is
// not the one running now and is valid.
func RollbackVersion(versions []journal.Version, current string, re *regexp.Regexp) (string, error) {
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i].Version
		if v != current && ValidVersion(v, re) {
			return v, nil
		}
	}
	return "", ErrNoRollbackVersion
}

// RollbackArgv substitutes a validated version into the configured argv.
// The version is checked here again, so no caller can pass an unchecked one.
func RollbackArgv(command []string, version string, re *regexp.Regexp) ([]string, error) {
	if !ValidVersion(version, re) {
		return nil, fmt.Errorf("%w: version %q does not match %s", ErrRefused, version, re)
	}
	out := make([]string, len(command))
	for i, a := range command {
		out[i] = strings.ReplaceAll(a, "{version}", version)
	}
	return out, nil
}
