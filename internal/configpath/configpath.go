// Package configpath resolves the file paths written in the exporter's and
// the remediator's configuration files.
package configpath

import (
	"path/filepath"
	"strings"
)

// Resolve expands a leading ~ to home and makes a relative path relative to
// dir, the directory of the configuration file ("" leaves it as written).
func Resolve(p, dir, home string) string {
	switch {
	case p == "":
		return ""
	case p == "~":
		return home
	case strings.HasPrefix(p, "~/"):
		return filepath.Join(home, p[2:])
	case filepath.IsAbs(p) || dir == "":
		return p
	}
	return filepath.Join(dir, p)
}
