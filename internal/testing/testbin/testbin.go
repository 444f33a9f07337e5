// Package testbin finds the executables tests run as child processes: the
// project's own commands, built once per test binary from this checkout, and
// the pinned real tools (Prometheus, promtool, Alertmanager, amtool, the
// OpenClaw gateway from npm) that `make test` installs into a cache.
//
// Under CI=true a missing real tool is a test failure, never a skip.
package testbin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var builds sync.Map // package path → *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Command returns the path of the command in ./cmd/<name>, built from this
// checkout once per test binary. $CLAWWATCH_BIN_<NAME> (upper case, dashes
// as underscores) overrides it with a prebuilt binary.
func Command(t testing.TB, name string) string {
	t.Helper()
	env := "CLAWWATCH_BIN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if p := os.Getenv(env); p != "" {
		return p
	}
	return Package(t, "./cmd/"+name)
}

// Package returns the path of the executable built, without -race, from the
// main package at pkg (relative to the module root, "./mixin/build"), once
// per test binary.
func Package(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() { b.path, b.err = goBuild(pkg) })
	if b.err != nil {
		t.Fatalf("build %s: %v", pkg, b.err)
	}
	return b.path
}

func goBuild(pkg string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	// One directory per checkout: a build from another clone (CI's, beside
	// a working tree) must not replace this one's.
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(cache, "clawwatch", "testbin", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Build under a unique name and rename: test binaries of several
	// packages build concurrently.
	// ./cmd/x keeps its command's name (tests look for processes by it).
	name := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(pkg, "./cmd/"), "./"), "/", "-")
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d", name, os.Getpid()))
	cmd := exec.Command("go", "build", "-o", tmp, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	final := filepath.Join(dir, name)
	return final, os.Rename(tmp, final)
}

// Tool returns the path of a pinned real tool: prometheus, promtool,
// alertmanager or amtool from $CLAWWATCH_TOOLS_DIR (`make tools`).
func Tool(t testing.TB, name string) string {
	t.Helper()
	dir := required(t, "CLAWWATCH_TOOLS_DIR", "make tools")
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not in %s (run `make tools`): %v", name, dir, err)
	}
	return p
}

// OpenClawDir returns the cached install of the real gateway from npm
// ($CLAWWATCH_OPENCLAW_DIR, `make openclaw`).
func OpenClawDir(t testing.TB) string {
	t.Helper()
	dir := required(t, "CLAWWATCH_OPENCLAW_DIR", "make openclaw")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "openclaw")); err != nil {
		t.Fatalf("real gateway not installed in %s (run `make openclaw`): %v", dir, err)
	}
	return dir
}

// System returns the path of a command from Debian's packages that a test
// runs (`make debian` installs them).
func System(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (run `make debian`): %v", name, err)
	}
	t.Skipf("%s is not installed; `make debian` installs it", name)
	return ""
}

func required(t testing.TB, env, target string) string {
	t.Helper()
	dir := os.Getenv(env)
	if dir != "" {
		return dir
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: run the tests through `make test`, which runs `%s`", env, target)
	}
	t.Skipf("%s is not set; `make test` runs `%s` and then this test", env, target)
	return ""
}
