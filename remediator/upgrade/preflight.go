package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The checks before a guarded upgrade's first batch, for every target: room
// for what the upgrade keeps, then OpenClaw's own doctor and dry run. Any
// refusal ends the upgrade refused before anything is touched.

// preflight runs the checks and journals what each found; it returns the
// refusals in the checks' own words, or "" when every target may go ahead.
func (r *Runner) preflight(ctx context.Context, cfg *config.Config, u *journal.Upgrade) string {
	var refusals []string
	for i := range u.Batches {
		for j := range u.Batches[i].Steps {
			s := &u.Batches[i].Steps[j]
			t := cfg.Target(s.Target)
			if t == nil {
				refusals = append(refusals, fmt.Sprintf("target %s is no longer configured", s.Target))
				continue
			}
			if v, err := r.runningVersion(ctx, t); err == nil && v == u.To {
				s.Preflight = "already runs " + u.To
				continue
			}
			found, refusal := r.preflightTarget(ctx, t, u.To)
			s.Preflight = journal.Truncate(strings.Join(found, "\n"))
			if refusal != "" {
				refusals = append(refusals, fmt.Sprintf("%s: %s", s.Target, refusal))
			}
		}
	}
	return strings.Join(refusals, "; ")
}

// preflightTarget runs one target's checks in order and stops at the first
// refusal.
func (r *Runner) preflightTarget(ctx context.Context, t *config.Target, to string) (found []string, refusal string) {
	if err := room(t); err != nil {
		return []string{"disk: " + err.Error()}, err.Error()
	}
	found = append(found, "disk: room for the kept package and archive")
	// Doctor first: it reads the state as it is; then the updater says
	// what it would do.
	checks := []struct {
		name   string
		argv   []string
		keys   []string
		report interface {
			Refusal() string
			Summary() string
		}
	}{
		{"doctor", t.Update.Preflight.Doctor, openclaw.LintReportKeys, &openclaw.LintReport{}},
		{"dry run", t.Update.Preflight.DryRun, openclaw.UpdateReportKeys, &openclaw.UpdateReport{}},
	}
	for _, c := range checks {
		if len(c.argv) == 0 {
			continue
		}
		argv, err := Argv(c.argv, to, t.Rollback.VersionRegexp())
		if err != nil {
			return append(found, c.name+": "+err.Error()), c.name + ": " + err.Error()
		}
		report, out, runErr := driver.RunReport(ctx, argv, t.Driver.Dir(), t.CLIEnv())
		if err := openclaw.DecodeReport(report, c.report, c.keys...); err != nil {
			why := fmt.Sprintf("%s: %v", c.name, errors.Join(runErr, err))
			return append(found, why+"\n"+journal.Truncate(out)), why
		}
		// The report is the verdict, not the exit status: a dry run that
		// would not update exits 0, doctor exits 1 on findings below the
		// updater's threshold when run without --severity-min error.
		if why := c.report.Refusal(); why != "" {
			return append(found, c.name+" refused: "+why), c.name + ": " + why
		}
		found = append(found, fmt.Sprintf("%s: goes ahead (%s)", c.name, c.report.Summary()))
	}
	return found, ""
}

// room checks that the filesystems receiving what an upgrade keeps have
// space for it: the new release beside the kept package (as large as the
// installed one; twice where the keep dir is on another filesystem and the
// package is copied there), and the state archive (at most the state's
// size).
func room(t *config.Target) error {
	need := map[string]uint64{} // directory → bytes, summed per filesystem below
	if t.Package.Dir != "" {
		size, err := treeSize(t.Package.Dir)
		if err != nil {
			return fmt.Errorf("package.dir: %w", err)
		}
		need[filepath.Dir(t.Package.Dir)] += size
		if !sameFS(t.Package.Dir, t.Package.KeepDir) {
			need[existing(t.Package.KeepDir)] += size
		}
	}
	if t.Backup.Dir != "" && t.StateDir != "" {
		size, err := treeSize(t.StateDir)
		if err != nil {
			return fmt.Errorf("state dir: %w", err)
		}
		need[existing(t.Backup.Dir)] += size
	}
	perFS := map[uint64]uint64{}
	free := map[uint64]uint64{}
	where := map[uint64]string{}
	for dir, n := range need {
		id, avail, err := fsSpace(dir)
		if err != nil {
			return fmt.Errorf("free space of %s: %w", dir, err)
		}
		perFS[id] += n
		free[id] = avail
		where[id] = dir
	}
	for id, n := range perFS {
		if free[id] < n {
			return fmt.Errorf("%s has %d MiB free, the upgrade keeps %d MiB there", where[id], free[id]>>20, n>>20)
		}
	}
	return nil
}

// treeSize sums the sizes of the files under dir, not following links.
func treeSize(dir string) (uint64, error) {
	var n uint64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += uint64(fi.Size())
		}
		return nil
	})
	return n, err
}

// existing is dir or its nearest existing parent: a keep or backup dir is
// created on first use.
func existing(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

// sameFS says whether a and b (or b's nearest existing parent) are on one
// filesystem, where keeping a package is a rename.
func sameFS(a, b string) bool {
	ia, _, erra := fsSpace(a)
	ib, _, errb := fsSpace(existing(b))
	return erra == nil && errb == nil && ia == ib
}
