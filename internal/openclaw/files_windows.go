//go:build windows

package openclaw

import (
	"fmt"
	"io/fs"
	"os"
)

// Windows has no O_NOFOLLOW or openat: the path is checked with Lstat first
// (a symlink, junction or other reparse point is refused, never followed),
// then opened, and the open handle must be the very file Lstat saw, so a
// swap between the two is refused too. Windows has no FIFOs or devices in
// the file system to block on.

func openRegularPath(path string) (*os.File, os.FileInfo, error) {
	return openRegularChecked(path)
}

// openRegularIn opens name in dir by path, checking before and after that
// the path still names the directory that is open, not a junction or
// another directory swapped in since: Windows opens by path only.
func openRegularIn(dir *os.File, _, path string) (*os.File, os.FileInfo, error) {
	if err := stillDir(dir); err != nil {
		return nil, nil, err
	}
	f, fi, err := openRegularChecked(path)
	if err != nil {
		return nil, nil, err
	}
	if err := stillDir(dir); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// stillDir checks that dir's path names the open directory dir.
func stillDir(dir *os.File) error {
	opened, err := dir.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", dir.Name(), err)
	}
	now, err := os.Lstat(dir.Name())
	if err != nil {
		return err
	}
	if !now.IsDir() || !os.SameFile(opened, now) {
		return fmt.Errorf("%s was replaced since it was opened: %w", dir.Name(), ErrNotRegular)
	}
	return nil
}

func openRegularChecked(path string) (*os.File, os.FileInfo, error) {
	seen, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	if !seen.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is %s: %w", path, FileKind(seen.Mode()), ErrNotRegular)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	f, fi, err := checkRegular(f, path)
	if err != nil {
		return nil, nil, err
	}
	if !os.SameFile(seen, fi) {
		f.Close()
		return nil, nil, fmt.Errorf("%s was replaced while being opened: %w", path, ErrNotRegular)
	}
	return f, fi, nil
}

// notReparse refuses a directory that is a symlink or junction.
func notReparse(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "open", Path: dir, Err: fmt.Errorf("%s, not a directory: %w", FileKind(fi.Mode()), ErrNotRegular)}
	}
	return nil
}

// openDir opens dir for listing and for OpenRegularAt, refusing a symlink or
// junction in its place.
func openDir(dir string) (*os.File, error) {
	if err := notReparse(dir); err != nil {
		return nil, err
	}
	return os.Open(dir)
}
