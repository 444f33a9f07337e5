package actions

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// ErrRefused marks an action that failed before it touched the gateway,
// because what it needs is missing or unsafe. Trying again cannot help, so
// it is neither retried nor counted as an attempt. A driver's refusal (a
// paused rollout, an RBAC denial) is the same error.
var ErrRefused = driver.ErrRefused

// ErrNoRollbackVersion means no other version that passes the version
// pattern was ever verified healthy.
var ErrNoRollbackVersion = fmt.Errorf("%w: no other version that matches the version pattern was verified healthy", ErrRefused)

// rollbackAction installs the last version that verified healthy and has
// verification check that it runs.
type rollbackAction struct{}

func (rollbackAction) Spec() Spec {
	return Spec{Name: "rollback", Disruptive: true, Verified: true, RecordsVersion: true, ByLabel: true, Approval: true}
}

func (rollbackAction) Run(ctx context.Context, env *Env) (res Result, err error) {
	versions, err := env.Versions()
	if err != nil {
		return Result{}, err
	}
	t := env.Target
	current, _ := env.RunningVersion(ctx) // "" when not discoverable: any recorded version differs
	var skipped []string
	candidates := slices.DeleteFunc(slices.Clone(versions), func(v journal.Version) bool {
		if env.Config == nil {
			return false
		}
		k, bad := env.Config.KnownBadRelease(v.Version)
		if bad && v.Version != current {
			skipped = append(skipped, k.String())
		}
		return bad
	})
	version, err := RollbackVersion(candidates, current, t.Rollback.VersionRegexp())
	if err != nil {
		recorded := make([]string, len(versions))
		for i, v := range versions {
			recorded[i] = strconv.Quote(v.Version)
		}
		return Result{Output: fmt.Sprintf("running %q; verified healthy on record: [%s]%s", current, strings.Join(recorded, ", "), knownBadNote(skipped))}, err
	}
	head := fmt.Sprintf("rollback %s -> %s", current, version)
	if len(skipped) > 0 {
		notes := knownBadNote(skipped)
		defer func() { res.Output = strings.TrimPrefix(notes, "\n") + "\n" + res.Output }()
	}
	if d, ok := env.Driver.(driver.Reverter); ok {
		return revert(ctx, d, head, versionOf(versions, version))
	}
	argv, err := RollbackArgv(t.Rollback.Command, version, t.Rollback.VersionRegexp())
	if err != nil {
		return Result{}, err
	}
	restart := RestartOf(t, env.Driver, env.Procs)
	rec := versionOf(versions, version)
	var notes []string
	var swap func(context.Context) (string, error)
	if rec.Package != "" && t.Package.Dir != "" {
		if err := CheckKept(t, rec.Package, version); err != nil {
			notes = append(notes, "kept package not used: "+err.Error())
		} else {
			head += " by swapping back the package kept at " + rec.Package
			swap = PackageSwap{Target: t, Kept: rec.Package, Now: env.Now}.Run
		}
	}
	if swap == nil && t.Package.Dir != "" && current != "" {
		// Reinstalling replaces the package: keep it first, as an upgrade does.
		named := packagesOf(versions)
		kept, err := KeepPackage(ctx, t, current, env.Now, func(p string) bool { return slices.Contains(named, p) })
		if kept.Path != "" {
			notes = append(notes, fmt.Sprintf("package: the installed package %s is kept at %s", current, kept.Path))
		}
		if err != nil {
			notes = append(notes, "package: "+err.Error())
		}
	}
	var out string
	switch {
	case rec.Backup != "" && t.Backup.Dir != "":
		head += " with the state archived before the upgrade"
		out, err = StateRestore{Target: t, Archive: rec.Backup, Install: argv, Swap: swap, Now: env.Now, Restart: restart}.Run(ctx)
	case swap != nil:
		out, err = SwapStopped(ctx, restart, swap)
	case t.Update.Stop:
		out, err = RunStopped(ctx, t, restart, argv)
	default:
		out, err = driver.Run(ctx, argv, t.Driver.Dir(), t.CLIEnv())
	}
	if len(notes) > 0 {
		out = strings.Join(notes, "\n") + "\n" + out
	}
	// The summary first and last: the journal keeps an output's tail.
	return Result{Output: head + "\n" + out + "\n" + head, Version: version}, err
}

// revert rolls a driver that keeps its own revisions (Kubernetes) back to
// the one recorded when rec was verified healthy: no package, archive or
// update command is involved.
func revert(ctx context.Context, d driver.Reverter, head string, rec journal.Version) (Result, error) {
	if rec.Revision == "" {
		return Result{Output: head}, fmt.Errorf("%w: no revision was recorded when %s was verified healthy", ErrRefused, rec.Version)
	}
	head += " (revision " + rec.Revision + ")"
	out, err := d.Revert(ctx, rec.Revision)
	return Result{Output: head + "\n" + out + "\n" + head, Version: rec.Version}, err
}

// knownBadNote says which recorded versions the rollback passed over.
func knownBadNote(skipped []string) string {
	if len(skipped) == 0 {
		return ""
	}
	return "\nnot rolled back to, known bad: " + strings.Join(skipped, "; ")
}

// versionOf is the record of version, with its rollback points.
func versionOf(versions []journal.Version, version string) journal.Version {
	for _, v := range versions {
		if v.Version == version {
			return v
		}
	}
	return journal.Version{}
}

// packagesOf lists the kept packages the versions name.
func packagesOf(versions []journal.Version) []string {
	var out []string
	for _, v := range versions {
		if v.Package != "" {
			out = append(out, v.Package)
		}
	}
	return out
}

// ErrBadVersion marks a version refused before anything runs: a refusal.
var ErrBadVersion = fmt.Errorf("version %w", ErrRefused)

// MaxVersion bounds a version; OpenClaw's are about ten characters.
const MaxVersion = 64

// CheckVersion is the one rule for a version that goes into a command (an
// upgrade's, a rollback's) or the record of healthy versions: data only,
// whatever the target's pattern allows. Not empty, short, not an option (a
// leading '-' would be read as a flag by the update command even as one argv
// element), no control character, NUL or slash, and matching the target's
// anchored version pattern.
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

// ValidVersion reports whether CheckVersion accepts v.
func ValidVersion(v string, re *regexp.Regexp) bool { return CheckVersion(v, re) == nil }

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
	if err := CheckVersion(version, re); err != nil {
		return nil, err
	}
	out := make([]string, len(command))
	for i, a := range command {
		out[i] = strings.ReplaceAll(a, "{version}", version)
	}
	return out, nil
}
