package openclaw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
)

// The gateway's logs and locks live under /tmp by default, where anyone can
// plant a FIFO, a device node or a symlink in their place. A plain open of a
// FIFO blocks until a writer comes, and a symlink to /dev/zero reads
// forever, so these files are opened only through the two functions below.

// ErrNotRegular means a path that should be a regular file (or directory) is
// something else: a symlink, a FIFO, a device or a socket.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading only if it is a regular file: without
// following a symlink in its last component, without blocking (O_NONBLOCK,
// for a FIFO), and checked on the descriptor itself, which no rename can
// swap afterwards. Errors wrap ErrNotRegular, or the open's error
// (fs.ErrNotExist when the file went away).
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, fmt.Errorf("%s is a symlink: %w", path, ErrNotRegular)
		}
		return nil, nil, err
	}
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
// replaced by a FIFO (O_DIRECTORY fails on anything but a directory).
func readDir(dir string) ([]os.DirEntry, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
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
