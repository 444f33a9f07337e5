//go:build unix

package openclaw

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

func openRegularPath(path string) (*os.File, os.FileInfo, error) {
	return openRegular(unix.AT_FDCWD, path, path)
}

func openRegularIn(dir *os.File, name, path string) (*os.File, os.FileInfo, error) {
	rc, err := dir.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	var (
		f  *os.File
		fi os.FileInfo
	)
	if cerr := rc.Control(func(dirfd uintptr) { f, fi, err = openRegular(int(dirfd), name, path) }); cerr != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, cerr)
	}
	return f, fi, err
}

// openRegular opens name relative to dirfd and keeps it only if the
// descriptor is a regular file; path names it in errors and on the file.
func openRegular(dirfd int, name, path string) (*os.File, os.FileInfo, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		if err == unix.ELOOP {
			return nil, nil, fmt.Errorf("%s is a symlink: %w", path, ErrNotRegular)
		}
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return checkRegular(os.NewFile(uintptr(fd), path), path)
}

// openDir opens dir for listing and for OpenRegularAt; O_DIRECTORY fails on
// anything but a directory instead of blocking on a FIFO put in its place.
func openDir(dir string) (*os.File, error) {
	return os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
}
