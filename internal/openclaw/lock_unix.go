//go:build unix

package openclaw

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func findLocksIn(dir string) ([]LockFile, error) {
	const flags = syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	var distrust error
	fd, err := syscall.Open(dir, flags|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP) {
		// A symlink (O_NOFOLLOW with O_DIRECTORY says ENOTDIR): still
		// listed, so that its locks are counted; never trusted.
		if fi, lerr := os.Lstat(dir); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			distrust = fmt.Errorf("directory %s is a symlink", dir)
			fd, err = syscall.Open(dir, flags, 0)
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	d := os.NewFile(uintptr(fd), dir)
	defer d.Close()
	dfi, err := d.Stat()
	if err != nil {
		return nil, err
	}
	dirSt := dfi.Sys().(*syscall.Stat_t)
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	uid := lockDirUID(dir)
	var out []LockFile
	for _, name := range names {
		if ok, _ := filepath.Match("gateway.*.lock", name); !ok {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing
			}
			return nil, fmt.Errorf("stat lock %s: %w", path, err)
		}
		if !fi.Mode().IsRegular() {
			continue // never opened: opening a device may act on it
		}
		st := *fi.Sys().(*syscall.Stat_t)
		modTime := fi.ModTime()
		data, err := readLockAt(d, name, &st, &modTime)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		lf := LockFile{Path: path, ModTime: modTime, Owner: int(st.Uid)}
		if err == nil {
			lf.Lock, err = ParseLock(data)
		}
		if err != nil {
			lf.Err = fmt.Errorf("lock %s: %w", path, err)
		}
		lf.Untrusted = lockTrust(path, dir, uid, distrust, dirSt, &st)
		out = append(out, lf)
	}
	return out, nil
}

// readLockAt reads the lock name in the open directory d (OpenRegularAt)
// and fills st from the descriptor the content was read from.
func readLockAt(d *os.File, name string, st *syscall.Stat_t, modTime *time.Time) ([]byte, error) {
	f, fi, err := OpenRegularAt(d, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	*st = *fi.Sys().(*syscall.Stat_t)
	*modTime = fi.ModTime()
	const limit = 64 << 10
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// lockDirUID is the uid of the gateway whose locks dir holds: the one it is
// named for (openclaw-<uid>, LockDir), else the caller's.
func lockDirUID(dir string) int {
	if s, ok := strings.CutPrefix(filepath.Base(dir), "openclaw-"); ok {
		if uid, err := strconv.Atoi(s); err == nil && uid >= 0 {
			return uid
		}
	}
	return os.Getuid()
}

// lockTrust returns why the lock at path, in dir, may have been written by
// someone other than uid or root; nil when it cannot.
func lockTrust(path, dir string, uid int, distrust error, dirSt, st *syscall.Stat_t) error {
	owner := func(u uint32) bool { return int(u) == uid || u == 0 }
	const othersWrite = 0o022
	dirShared := dirSt.Mode&othersWrite != 0
	var why string
	switch {
	case distrust != nil:
		why = distrust.Error()
	case !owner(dirSt.Uid):
		why = fmt.Sprintf("directory %s is owned by uid %d, not by the gateway's uid %d or root", dir, dirSt.Uid, uid)
	case dirShared && dirSt.Mode&syscall.S_ISVTX == 0:
		why = fmt.Sprintf("directory %s is writable by other users (mode %04o) and not sticky", dir, dirSt.Mode&0o7777)
	case !owner(st.Uid):
		why = fmt.Sprintf("owned by uid %d, not by the gateway's uid %d or root", st.Uid, uid)
	case st.Mode&othersWrite != 0:
		why = fmt.Sprintf("writable by other users (mode %04o)", st.Mode&0o7777)
	case dirShared && st.Nlink != 1:
		// Another user may have linked one of the owner's files here.
		why = fmt.Sprintf("%d hard links in a directory other users can write", st.Nlink)
	default:
		return nil
	}
	return fmt.Errorf("lock %s: %s: %w", path, why, ErrUntrustedLock)
}

// hiddenAlive reports whether pid, absent from the proc root, exists all
// the same: /proc mounted with hidepid hides other users' processes, and
// the kernel answers EPERM, not ESRCH, for a process we may not signal.
func (p ProcFS) hiddenAlive(pid int) bool {
	return p.Root == DefaultProcFS.Root && syscall.Kill(pid, 0) == syscall.EPERM
}
