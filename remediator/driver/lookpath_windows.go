//go:build windows

package driver

import (
	"os"
	"path/filepath"
	"strings"
)

// pathSeparators mark a command name as a path, not looked up in PATH.
const pathSeparators = `/\:`

// executableIn is dir/name, or dir/name with one of PATHEXT's extensions
// (npm installs the openclaw CLI as openclaw.cmd), when that is a regular
// file: Windows has no executable bit.
func executableIn(dir, name string) (string, bool) {
	exts := []string{""}
	if filepath.Ext(name) == "" {
		pathext := os.Getenv("PATHEXT")
		if pathext == "" {
			pathext = ".COM;.EXE;.BAT;.CMD"
		}
		exts = strings.Split(strings.ToLower(pathext), ";")
	}
	for _, ext := range exts {
		p := filepath.Join(dir, name+ext)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}
