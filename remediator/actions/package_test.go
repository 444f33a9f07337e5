package actions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"
)

// installPackage lays out an openclaw package of version in dir, with a
// nested dependency and an npm-style relative link.
func installPackage(t *testing.T, dir, version string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "dep", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"package.json":                  fmt.Sprintf(`{"name":"openclaw","version":%q}`, version),
		"node_modules/dep/bin/cli.js":   "#!/usr/bin/env node\n",
		"node_modules/dep/package.json": `{"name":"dep"}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "node_modules", "dep", "bin", "cli.js"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../dep/bin/cli.js", filepath.Join(dir, "node_modules", "dep", "cli")); err != nil {
		t.Fatal(err)
	}
}

func packageTarget(t *testing.T) *config.Target {
	t.Helper()
	root := t.TempDir()
	return &config.Target{Name: "a", Package: config.Package{
		Dir: filepath.Join(root, "lib", "node_modules", "openclaw"), KeepDir: filepath.Join(root, "keep"), Keep: 1}}
}

func TestKeepPackageCopiesAndPrunes(t *testing.T) {
	tg := packageTarget(t)
	installPackage(t, tg.Package.Dir, "2026.9.5")
	ctx := context.Background()
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

	if _, err := KeepPackage(ctx, tg, "2026.9.6", t0, func(string) bool { return false }); err == nil || !strings.Contains(err.Error(), "holds 2026.9.5, but the gateway runs 2026.9.6") {
		t.Fatalf("keep a package that is not the running version: %v", err)
	}
	first, err := KeepPackage(ctx, tg, "2026.9.5", t0, func(string) bool { return false })
	if err != nil || filepath.Dir(first.Path) != tg.Package.KeepDir || first.Version != "2026.9.5" {
		t.Fatalf("keep: %+v %v", first, err)
	}
	if err := CheckKept(tg, first.Path, "2026.9.5"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(first.Path, "node_modules", "dep", "bin", "cli.js")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("copied file mode: %v %v", fi, err)
	}
	if l, err := os.Readlink(filepath.Join(first.Path, "node_modules", "dep", "cli")); err != nil || l != "../dep/bin/cli.js" {
		t.Errorf("copied link: %q %v", l, err)
	}
	// Not the dir's own: a link and a file in the keep dir are never pruned.
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(tg.Package.KeepDir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tg.Package.KeepDir, "note"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// keep: 1 besides the one just kept — the journal names the first, so
	// both stay; a third with nothing named prunes the oldest.
	second, err := KeepPackage(ctx, tg, "2026.9.5", t0.Add(time.Second), func(p string) bool { return p == first.Path })
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{first.Path, second.Path} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s pruned while named or newest: %v", p, err)
		}
	}
	third, err := KeepPackage(ctx, tg, "2026.9.5", t0.Add(2*time.Second), func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(tg.Package.KeepDir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{filepath.Base(second.Path), filepath.Base(third.Path), "link", "note"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("keep dir after prune: %q, want %q", names, want)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the link's target: %v", err)
	}
}

func TestCheckKeptRefuses(t *testing.T) {
	tg := packageTarget(t)
	good := filepath.Join(tg.Package.KeepDir, "2026.9.5-x")
	installPackage(t, good, "2026.9.5")
	elsewhere := filepath.Join(t.TempDir(), "2026.9.5-y")
	installPackage(t, elsewhere, "2026.9.5")
	link := filepath.Join(tg.Package.KeepDir, "2026.9.5-link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		good:                         "holds 2026.9.5, not 2026.9.4",
		elsewhere:                    "not directly inside the keep dir",
		link:                         "not a directory",
		"relative/2026.9.5":          "not directly inside",
		tg.Package.KeepDir + "/gone": "no such file",
	} {
		if err := CheckKept(tg, path, "2026.9.4"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckKept(%s): %v, want %q", path, err, want)
		}
	}
}

func TestPackageSwapRenamesBackAndKeepsTheReplaced(t *testing.T) {
	tg := packageTarget(t)
	installPackage(t, tg.Package.Dir, "2026.9.6")
	kept := filepath.Join(tg.Package.KeepDir, "2026.9.5-x")
	installPackage(t, kept, "2026.9.5")
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	log, err := PackageSwap{Target: tg, Kept: kept, Now: now}.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if v, err := os.ReadFile(filepath.Join(tg.Package.Dir, "package.json")); err != nil || !strings.Contains(string(v), "2026.9.5") {
		t.Errorf("package dir after the swap: %s %v", v, err)
	}
	replaced := filepath.Join(tg.Package.KeepDir, "2026.9.6-20260901T000000.000Z")
	if err := CheckKept(tg, replaced, "2026.9.6"); err != nil || !strings.Contains(log, "is kept at "+replaced) {
		t.Errorf("the replaced package: %v\n%s", err, log)
	}
	// A kept package that is gone: the installed one is put back.
	if _, err := (PackageSwap{Target: tg, Kept: kept, Now: now.Add(time.Second)}).Run(context.Background()); err == nil {
		t.Fatal("swap from a kept package that is gone succeeded")
	}
	if v, err := os.ReadFile(filepath.Join(tg.Package.Dir, "package.json")); err != nil || !strings.Contains(string(v), "2026.9.5") {
		t.Errorf("package dir after a failed swap: %s %v", v, err)
	}
}
