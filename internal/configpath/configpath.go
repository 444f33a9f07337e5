// Package configpath loads the exporter's and the remediator's
// configuration files and resolves the file paths written in them.
package configpath

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load reads the file at path and parses it with parse, which resolves
// relative paths against dir, the file's directory. Errors name the file.
func Load[T any](path string, parse func(data []byte, dir string) (T, error)) (T, error) {
	var zero T
	data, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("read config: %w", err)
	}
	c, err := parse(data, filepath.Dir(path))
	if err != nil {
		return zero, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

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
