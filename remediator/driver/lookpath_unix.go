//go:build unix

package driver

import (
	"os"
	"path/filepath"
)

// pathSeparators mark a command name as a path, not looked up in PATH.
const pathSeparators = "/"

// executableIn is dir/name when that is an executable regular file.
func executableIn(dir, name string) (string, bool) {
	p := filepath.Join(dir, name)
	fi, err := os.Stat(p)
	return p, err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
