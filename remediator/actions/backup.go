package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// State rollback points: OpenClaw migrates its databases when a newer
// version starts, and an older version refuses the migrated state
// (docs/openclaw.md), so a rollback across a migration restores the state
// archived before the upgrade, as OpenClaw's own downgrade procedure says:
// gateway stopped, current state kept aside, archive restored, then the old
// version installed.

// Substitute replaces each placeholder in every element of argv; each
// value stays inside the element it replaces (no shell, no splitting).
func Substitute(argv []string, values map[string]string) []string {
	var pairs []string
	for k, v := range values {
		pairs = append(pairs, k, v)
	}
	r := strings.NewReplacer(pairs...) // one pass: a value is never read as a placeholder
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = r.Replace(a)
	}
	return out
}

// CreateBackup archives t's state with its backup command and returns the
// archive, a regular file directly inside the backup dir. keep reports the
// archives the journal still names; of the others, the newest
// Backup.Keep stay and older ones are removed.
func CreateBackup(ctx context.Context, t *config.Target, keep func(string) bool) (archive, output string, err error) {
	b := t.Backup
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return "", "", fmt.Errorf("backup dir: %w", err)
	}
	out, err := driver.Run(ctx, Substitute(b.Command, map[string]string{"{dir}": b.Dir}), t.Driver.Dir(), t.CLIEnv())
	if err != nil {
		return "", out, fmt.Errorf("backup command: %w", err)
	}
	if archive, err = reportedArchive(out, b.Dir); err != nil {
		return "", out, err
	}
	if err := pruneBackups(b.Dir, b.Keep, func(p string) bool { return p == archive || keep(p) }); err != nil {
		return archive, out, fmt.Errorf("prune %s: %w", b.Dir, err)
	}
	return archive, out, nil
}

// reportedArchive finds the JSON report the backup command printed (its
// output may hold other lines) and checks the archive it names.
func reportedArchive(out, dir string) (string, error) {
	for i := 0; i < len(out); i++ {
		j := strings.IndexByte(out[i:], '{')
		if j < 0 {
			break
		}
		i += j
		var rep struct {
			ArchivePath string `json:"archivePath"`
			Verified    *bool  `json:"verified"`
		}
		if json.NewDecoder(strings.NewReader(out[i:])).Decode(&rep) != nil || rep.ArchivePath == "" {
			continue
		}
		if rep.Verified != nil && !*rep.Verified {
			return "", fmt.Errorf("backup command: archive %s is not verified", rep.ArchivePath)
		}
		return checkArchive(rep.ArchivePath, dir)
	}
	return "", errors.New(`backup command: no JSON report with "archivePath" in its output`)
}

// checkArchive accepts only a regular file directly inside dir, not a link.
func checkArchive(path, dir string) (string, error) {
	if !filepath.IsAbs(path) || filepath.Dir(filepath.Clean(path)) != filepath.Clean(dir) {
		return "", fmt.Errorf("archive %q is not directly inside the backup dir %s", path, dir)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("archive %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	return filepath.Clean(path), nil
}

// pruneBackups removes the oldest regular files of dir beyond the newest n
// that keep does not protect. Nothing outside dir and no link is removed.
func pruneBackups(dir string, n int, keep func(string) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if p := filepath.Join(dir, e.Name()); !keep(p) {
			files = append(files, file{p, fi.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b file) int { return b.mod.Compare(a.mod) })
	var errs []error
	for _, f := range files[min(n, len(files)):] {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunStopped runs argv with the gateway stopped (update.stop: OpenClaw's
// updater does not restart a gateway it does not manage, and its Doctor
// waits on a running one's state), then starts it again whether or not argv
// succeeded: a failed update must not leave the gateway down.
func RunStopped(ctx context.Context, t *config.Target, r Restart, argv []string) (string, error) {
	out, err := r.Driver.Stop(ctx, r.Grace)
	log := "stop: " + out
	if err != nil {
		return log, fmt.Errorf("stop: %w", err)
	}
	out, runErr := driver.Run(ctx, argv, t.Driver.Dir(), t.CLIEnv())
	log += "\n" + argv[0] + ": " + out
	out, err = r.Run(ctx) // already stopped: locks, start
	log += "\n" + out
	return log, errors.Join(runErr, err)
}

// StateRestore puts the state of an archive in place of the target's
// state directory, the gateway stopped, and installs the archive's version.
type StateRestore struct {
	Target  *config.Target
	Restart Restart
	Archive string
	// Install is the argv that installs the version the archive was taken
	// on (the rollback command): run after the state is in place, because
	// OpenClaw's updater refuses a release older than the state on disk.
	Install []string
	// Swap, when set, installs the version instead of Install: a kept
	// package put back in place (PackageSwap).
	Swap func(context.Context) (string, error)
	Now  time.Time
}

// Run restores, and returns a log of its steps. Before the gateway is
// stopped the archive is extracted and checked, so a bad archive refuses
// with nothing touched; the state it replaces is renamed aside, never
// deleted.
func (s StateRestore) Run(ctx context.Context) (string, error) {
	t := s.Target
	state := filepath.Clean(t.StateDir)
	var log []string
	done := func(err error) (string, error) { return strings.Join(log, "\n"), err }
	if _, err := checkArchive(s.Archive, t.Backup.Dir); err != nil {
		return done(fmt.Errorf("%w: %v", ErrRefused, err))
	}
	stamp := s.Now.UTC().Format("20060102T150405Z")
	staging := filepath.Join(filepath.Dir(state), "."+filepath.Base(state)+".restore-"+stamp)
	out, err := driver.Run(ctx, Substitute(t.Backup.Restore, map[string]string{"{archive}": s.Archive, "{target}": staging}), t.Driver.Dir(), t.CLIEnv())
	log = append(log, "restore "+s.Archive+": "+out)
	if err != nil {
		return done(fmt.Errorf("%w: restore command: %v", ErrRefused, err))
	}
	restored, err := restoredState(staging, state)
	if err != nil {
		return done(fmt.Errorf("%w: %v", ErrRefused, err))
	}
	defer restored.Close()
	out, err = s.Restart.Driver.Stop(ctx, s.Restart.Grace)
	log = append(log, "stop: "+out)
	if err != nil {
		return done(fmt.Errorf("stop: %w", err))
	}
	aside := state + ".before-rollback-" + stamp
	if err := os.Rename(state, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return done(fmt.Errorf("keep the current state aside: %w", err))
	}
	if err := restored.moveTo(state); err != nil {
		if rerr := os.Rename(aside, state); rerr != nil {
			err = errors.Join(err, fmt.Errorf("put the current state back from %s: %w", aside, rerr))
		}
		return done(fmt.Errorf("put the restored state in place: %w", err))
	}
	restoredLine := fmt.Sprintf("state: %s restored from %s; the state it replaced is kept at %s", state, s.Archive, aside)
	log = append(log, restoredLine)
	if s.Swap != nil {
		out, err = s.Swap(ctx)
	} else {
		out, err = driver.Run(ctx, s.Install, t.Driver.Dir(), t.CLIEnv())
	}
	log = append(log, "install: "+out)
	if err != nil {
		// The installed version is still the newer one: it gets its own
		// state back and is started again, not left down.
		err = fmt.Errorf("install: %w", err)
		if uerr := swapBack(state, aside, state+".restored-"+stamp); uerr != nil {
			return done(errors.Join(err, uerr))
		}
		log = append(log, "state: put back from "+aside)
	}
	out, rerr := s.Restart.Run(ctx) // already stopped: locks, start
	log = append(log, out)
	if err == nil {
		// Again last: the journal keeps the tail of a long install's output.
		log = append(log, restoredLine)
	}
	return done(errors.Join(err, rerr))
}

// swapBack moves the restored state to restored and the state kept aside
// back into place.
func swapBack(state, aside, restored string) error {
	if err := os.Rename(state, restored); err != nil {
		return fmt.Errorf("move the restored state away: %w", err)
	}
	if err := os.Rename(aside, state); err != nil {
		return fmt.Errorf("put the state back from %s: %w", aside, err)
	}
	return nil
}
