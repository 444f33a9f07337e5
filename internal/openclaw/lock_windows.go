//go:build windows

package openclaw

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
)

// errLockOwnerUnknown is why no lock is trusted on Windows: file ownership
// there is an ACL, not a uid and mode bits, and clawwatch does not read
// ACLs, so it cannot show that only the gateway's user wrote a lock. Locks
// are reported, never acted on (stale lock removal, discovery by lock).
var errLockOwnerUnknown = errors.New("file ownership is not checked on Windows")

func findLocksIn(dir string) ([]LockFile, error) {
	d, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := listDir(d)
	if err != nil {
		return nil, err
	}
	var out []LockFile
	for _, e := range entries {
		name := e.Name()
		if ok, _ := filepath.Match("gateway.*.lock", name); !ok {
			continue
		}
		path := filepath.Join(dir, name)
		lf := LockFile{Path: path, Owner: -1, Untrusted: fmt.Errorf("lock %s: %w: %w", path, errLockOwnerUnknown, ErrUntrustedLock)}
		f, fi, err := OpenRegularAt(d, name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed since the listing
		case errors.Is(err, ErrNotRegular):
			continue // a symlink or junction: never followed
		case err != nil:
			lf.Err = fmt.Errorf("lock %s: %w", path, err)
			out = append(out, lf)
			continue
		}
		lf.ModTime = fi.ModTime()
		data, err := readLockFile(f)
		f.Close()
		if err == nil {
			lf.Lock, err = ParseLock(data)
		}
		if err != nil {
			lf.Err = fmt.Errorf("lock %s: %w", path, err)
		}
		out = append(out, lf)
	}
	return out, nil
}

func readLockFile(r io.Reader) ([]byte, error) {
	const limit = 64 << 10
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// hiddenAlive: Windows has no hidepid; a process the caller may not open
// still shows in the process list.
func (p ProcFS) hiddenAlive(int) bool { return false }
