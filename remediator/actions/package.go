package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// Kept packages (config.Package): the installed package directory of the
// version a target runs is kept under the keep dir before anything replaces
// it, and a rollback to a kept version renames it back into place. A kept
// package is named <version>-<stamp>; staging copies start with a dot.

// KeptPackage is a package directory kept under a target's keep dir.
type KeptPackage struct {
	Path    string
	Version string // what its package.json says
	Node    string // `node --version` in the target's environment; "" if unknown
}

// KeepPackage copies the package installed in t's package dir, which must
// hold version, into the keep dir (a copy: the update replaces the package
// in place and still runs from it), renames the copy into place, and
// prunes the keep dir: of the kept packages keep does not protect, the
// newest Package.Keep stay.
func KeepPackage(ctx context.Context, t *config.Target, version string, now time.Time, keep func(string) bool) (KeptPackage, error) {
	p := t.Package
	v, err := openclaw.PackageVersion(p.Dir)
	if err != nil {
		return KeptPackage{}, fmt.Errorf("package.dir %s: %w", p.Dir, err)
	}
	if v.Version != version {
		return KeptPackage{}, fmt.Errorf("package.dir %s holds %s, but the gateway runs %s: is package.dir the install it runs from?", p.Dir, v.Version, version)
	}
	if err := os.MkdirAll(p.KeepDir, 0o700); err != nil {
		return KeptPackage{}, fmt.Errorf("package keep dir: %w", err)
	}
	name := version + "-" + now.UTC().Format("20060102T150405.000Z")
	staging := filepath.Join(p.KeepDir, ".keep-"+name)
	kept := filepath.Join(p.KeepDir, name)
	if err := copyTree(ctx, p.Dir, staging); err != nil {
		_ = os.RemoveAll(staging) // our own staging copy, beneath the keep dir
		return KeptPackage{}, fmt.Errorf("keep %s: %w", p.Dir, err)
	}
	if err := os.Rename(staging, kept); err != nil {
		_ = os.RemoveAll(staging)
		return KeptPackage{}, fmt.Errorf("keep %s: %w", p.Dir, err)
	}
	// The newest by its modification time, whether copied or renamed in.
	_ = os.Chtimes(kept, now, now)
	out := KeptPackage{Path: kept, Version: version, Node: nodeVersion(ctx, t)}
	if err := prunePackages(p.KeepDir, p.Keep, func(d string) bool { return d == kept || keep(d) }); err != nil {
		return out, fmt.Errorf("prune %s: %w", p.KeepDir, err)
	}
	return out, nil
}

// nodeVersion is the Node.js the target's commands run on.
func nodeVersion(ctx context.Context, t *config.Target) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := driver.Run(ctx, []string{"node", "--version"}, t.Driver.Dir(), t.CLIEnv())
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// CheckKept accepts a kept package only directly inside the keep dir, a
// directory and not a link, holding version: the journal names it, and a
// kept package that is gone or was changed is not swapped in.
func CheckKept(t *config.Target, path, version string) error {
	if t.Package.Dir == "" {
		return errors.New("no package.dir configured")
	}
	if !filepath.IsAbs(path) || filepath.Dir(filepath.Clean(path)) != t.Package.KeepDir {
		return fmt.Errorf("kept package %q is not directly inside the keep dir %s", path, t.Package.KeepDir)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("kept package: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("kept package %s is not a directory (%s)", path, fi.Mode().Type())
	}
	v, err := openclaw.PackageVersion(path)
	if err != nil {
		return fmt.Errorf("kept package: %w", err)
	}
	if v.Version != version {
		return fmt.Errorf("kept package %s holds %s, not %s", path, v.Version, version)
	}
	return nil
}

// PackageSwap puts a kept package back in place of the target's package
// dir, the gateway stopped. The package it replaces is moved into the keep
// dir, kept in turn.
type PackageSwap struct {
	Target *config.Target
	Kept   string // checked with CheckKept
	Now    time.Time
}

// Run swaps, and returns a log of what it did. On one filesystem both
// moves are renames; a keep dir on another one is copied beside the
// package first, then renamed into place, and the replaced package is then
// left beside it. A failure puts the replaced package back.
func (s PackageSwap) Run(ctx context.Context) (string, error) {
	dir := s.Target.Package.Dir
	stamp := s.Now.UTC().Format("20060102T150405.000Z")
	replaced := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".replaced-"+stamp)
	if err := os.Rename(dir, replaced); err != nil {
		return "", fmt.Errorf("move the installed package aside: %w", err)
	}
	log := []string{}
	err := os.Rename(s.Kept, dir)
	if errors.Is(err, syscall.EXDEV) {
		staging := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".swap-"+stamp)
		if err = copyTree(ctx, s.Kept, staging); err == nil {
			err = os.Rename(staging, dir)
		}
		log = append(log, "package: copied from "+s.Kept+" (another filesystem)")
	}
	if err != nil {
		if rerr := os.Rename(replaced, dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("put the installed package back from %s: %w", replaced, rerr))
		}
		return strings.Join(log, "\n"), fmt.Errorf("put the kept package %s in place: %w", s.Kept, err)
	}
	log = append(log, fmt.Sprintf("package: %s swapped in from %s", dir, s.Kept))
	name := "unknown"
	if v, err := openclaw.PackageVersion(replaced); err == nil {
		name = v.Version // matched the version pattern of package.json: no slash
	}
	keptNow := filepath.Join(s.Target.Package.KeepDir, name+"-"+stamp)
	if err := os.Rename(replaced, keptNow); err != nil {
		log = append(log, fmt.Sprintf("package: the replaced package (%s) stays at %s (%v)", name, replaced, err))
	} else {
		_ = os.Chtimes(keptNow, s.Now, s.Now)
		log = append(log, fmt.Sprintf("package: the replaced package (%s) is kept at %s", name, keptNow))
	}
	return strings.Join(log, "\n"), nil
}

// SwapStopped runs swap with the gateway stopped, then starts it again
// whether or not the swap succeeded (a failed swap put the package back).
func SwapStopped(ctx context.Context, r Restart, swap func(context.Context) (string, error)) (string, error) {
	out, err := r.Driver.Stop(ctx, r.Grace)
	log := "stop: " + out
	if err != nil {
		return log, fmt.Errorf("stop: %w", err)
	}
	out, swapErr := swap(ctx)
	log += "\n" + out
	out, err = r.Run(ctx) // already stopped: locks, start
	log += "\n" + out
	return log, errors.Join(swapErr, err)
}

// prunePackages removes the oldest directories of dir beyond the newest n
// that keep does not protect. Only directories directly inside dir are
// removed, never a link, and never a staging copy being made.
func prunePackages(dir string, n int, keep func(string) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type kept struct {
		path string
		mod  time.Time
	}
	var dirs []kept
	for _, e := range entries {
		if !e.IsDir() || e.Type()&fs.ModeSymlink != 0 || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if p := filepath.Join(dir, e.Name()); !keep(p) {
			dirs = append(dirs, kept{p, fi.ModTime()})
		}
	}
	slices.SortFunc(dirs, func(a, b kept) int { return b.mod.Compare(a.mod) })
	var errs []error
	for _, d := range dirs[min(n, len(dirs)):] {
		// RemoveAll unlinks the links it meets inside, never following them.
		if err := os.RemoveAll(d.path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// copyTree copies the directory src to dst, which must not exist: regular
// files with their modes, directories and symbolic links as links (npm's
// .bin entries). Anything else refuses.
func copyTree(ctx context.Context, src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(to, fi.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		case d.Type().IsRegular():
			return copyFile(path, to, fi.Mode().Perm())
		}
		return fmt.Errorf("%s: %s is neither a file, a directory nor a link", path, d.Type())
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
