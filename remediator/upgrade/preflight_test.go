package upgrade

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/fulldisk"
	"github.com/clawwatch/clawwatch/remediator/config"
)

// room refuses when the filesystem that receives the new release beside
// the kept package cannot hold it, on a real full filesystem.
func TestPreflightRoom(t *testing.T) {
	disk := fulldisk.Mount(t, "2m")
	pkg := filepath.Join(disk, "lib", "node_modules", "openclaw")
	writeFile(t, filepath.Join(pkg, "package.json"), `{"name":"openclaw","version":"2026.9.5"}`)
	writeFile(t, filepath.Join(pkg, "dist", "big.js"), strings.Repeat("x", 600<<10))
	tgt := &config.Target{Package: config.Package{Dir: pkg, KeepDir: filepath.Join(disk, "keep")}}
	if err := room(tgt); err != nil {
		t.Fatalf("600 KiB on a 2 MiB filesystem: %v", err)
	}
	writeFile(t, filepath.Join(pkg, "dist", "bigger.js"), strings.Repeat("x", 700<<10))
	err := room(tgt)
	if err == nil || !strings.Contains(err.Error(), "the upgrade keeps 1 MiB there") || !strings.Contains(err.Error(), filepath.Join(disk, "lib", "node_modules")) {
		t.Errorf("1.3 MiB on a 2 MiB filesystem: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
