package openclaw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The gateway's logs and locks live under /tmp by default, where anyone can
// plant a FIFO, a device node or a symlink in their place. A plain open of a
// FIFO blocks until a writer comes, a symlink to /dev/zero reads forever, and
// one to a root-only file would copy it into evidence the console serves, so
// every such file is opened by openRegular, through the functions below.

// ErrNotRegular means a path that should be a regular file (or directory) is
// something else: a symlink, a FIFO, a device or a socket.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading only if it is a regular file: without
// following a symlink in its last component, without blocking (O_NONBLOCK,
// for a FIFO), and checked on the descriptor itself, which no rename can
// swap afterwards. Errors wrap ErrNotRegular, or the open's error
// (fs.ErrNotExist when the file went away). The directories on the way are
// resolved by name; OpenRegularAt opens in a directory already open.
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	return openRegularPath(path)
}

// OpenRegularAt opens the file name in the open directory dir like
// OpenRegular, relative to the descriptor (openat) where the platform has
// one: a directory listed and then replaced by a symlink cannot redirect the
// open elsewhere. name is one path component.
func OpenRegularAt(dir *os.File, name string) (*os.File, os.FileInfo, error) {
	path := filepath.Join(dir.Name(), name)
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/`+string(filepath.Separator)) {
		return nil, nil, fmt.Errorf("open %q in %s: not a file name", name, dir.Name())
	}
	return openRegularIn(dir, name, path)
}

// checkRegular keeps f only if it is a regular file.
func checkRegular(f *os.File, path string) (*os.File, os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %s: %w", path, FileKind(fi.Mode()), ErrNotRegular)
	}
	return f, fi, nil
}

// readDir lists dir like os.ReadDir, without blocking when dir has been
// replaced by a FIFO.
func readDir(dir string) ([]os.DirEntry, error) {
	f, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return listDir(f)
}

// listDir lists the open directory d, sorted by name.
func listDir(d *os.File) ([]os.DirEntry, error) {
	entries, err := d.ReadDir(-1)
	slices.SortFunc(entries, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// FileKind names what a file that is not regular is, for error messages.
func FileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	default:
		return "a " + m.Type().String() + " file"
	}
}
