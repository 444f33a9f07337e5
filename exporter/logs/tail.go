package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// relistEvery bounds how long the listing of unchanged log directories is
// trusted: a log that becomes the newest by being written to, with no file
// created, renamed or removed, is noticed within it.
const relistEvery = time.Minute

// racyWindow: a directory changed within it of its listing is listed again
// at the next poll, since a later change within the same timestamp tick
// would leave its modification time as it was (git's "racy" index entries).
const racyWindow = 2 * time.Second

// maxPartial bounds a line kept across reads while its end has not been
// written yet; a longer one is counted when its end arrives, its head dropped.
const maxPartial = 1 << 20

// tailer follows the newest openclaw-*.log across rotations and truncation.
// It keeps the file it reads open, so that when the gateway renames it to
// DATE.1.log the rest of it is still read before moving to the new file:
// nothing is lost and nothing is read twice.
type tailer struct {
	dirs    []string
	profile string

	f       *os.File
	path    string
	dev     uint64
	ino     uint64
	offset  int64
	partial []byte
	started bool
	buf     []byte

	// listed are the directories as they were before the listing that
	// found the file open as the newest (nil: list at the next poll; a nil
	// entry, a directory that did not exist); listedAt is when.
	listed   []os.FileInfo
	listedAt time.Time
	listings int // for tests
}

func newTailer(profile string, dirs []string) *tailer {
	return &tailer{dirs: dirs, profile: profile, buf: make([]byte, 1<<20)}
}

// poll reads what was appended since the last poll, at most budget bytes,
// and hands complete lines to fn in chunks. At the very first poll the
// existing content is skipped: counters start at the exporter's start, they
// do not replay history.
func (t *tailer) poll(budget int64, fn func(lines []byte)) (int64, error) {
	var read int64
	if t.f != nil {
		n, err := t.drain(budget, fn)
		read += n
		if err != nil {
			return read, err
		}
	}
	// While no log was created, renamed or removed, the file open is still
	// the newest: a stat of each directory instead of listing them and
	// opening the newest log every poll.
	if t.f != nil && t.dirsUnchanged() {
		return read, nil
	}
	before, at := t.stampDirs(), time.Now()
	t.listed, t.listings = nil, t.listings+1
	// Opened, not stat'ed by name, to be compared with the file being
	// read: a symlink (say to /dev/zero) or FIFO swapped in for the newest
	// log is refused on the descriptor, whenever the swap happens.
	newest, f, err := openclaw.OpenNewestLog(t.profile, t.dirs...)
	switch {
	case errors.Is(err, openclaw.ErrNoLog):
		t.started = true
		return read, nil
	case errors.Is(err, fs.ErrNotExist):
		return read, nil // rotated away between listing and open: next poll
	case errors.Is(err, openclaw.ErrNotRegular):
		return read, fmt.Errorf("%w; skipped", err)
	case err != nil:
		return read, fmt.Errorf("open log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return read, fmt.Errorf("stat log: %w", err)
	}
	dev, ino, ok := fileID(f, fi)
	if !ok {
		f.Close()
		return read, fmt.Errorf("stat %s: no inode", newest.Path)
	}
	if t.f != nil && dev == t.dev && ino == t.ino {
		f.Close() // still the same file
		t.listed, t.listedAt = before, at
		return read, nil
	}
	if t.f != nil && read >= budget {
		f.Close() // finish the old file first
		return read, nil
	}
	// A new file: rotation, a new day, or the first poll.
	if t.f != nil {
		t.f.Close()
	}
	t.f, t.path, t.dev, t.ino, t.offset, t.partial = f, newest.Path, dev, ino, 0, t.partial[:0]
	t.listed, t.listedAt = before, at
	if !t.started {
		t.offset = fi.Size()
		t.started = true
		return read, nil
	}
	n, err := t.drain(budget-read, fn)
	return read + n, err
}

// stampDirs returns the log directories as they are now, to tell a later
// change; nil when one of them changed within racyWindow (or cannot be
// read).
func (t *tailer) stampDirs() []os.FileInfo {
	now := time.Now()
	out := make([]os.FileInfo, len(t.dirs))
	for i, dir := range t.dirs {
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil, now.Sub(fi.ModTime()) < racyWindow:
			return nil
		}
		out[i] = fi
	}
	return out
}

// dirsUnchanged says whether the log directories are as the last listing
// found them, and that listing recent enough to be trusted.
func (t *tailer) dirsUnchanged() bool {
	if t.listed == nil || time.Since(t.listedAt) >= relistEvery {
		return false
	}
	for i, dir := range t.dirs {
		fi, err := os.Stat(dir)
		was := t.listed[i]
		switch {
		case err != nil:
			if was != nil || !errors.Is(err, fs.ErrNotExist) {
				return false
			}
		case was == nil || !os.SameFile(was, fi) || !fi.ModTime().Equal(was.ModTime()):
			return false
		}
	}
	return true
}

// drain reads the open file from the offset to its end.
func (t *tailer) drain(budget int64, fn func([]byte)) (int64, error) {
	fi, err := t.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat log: %w", err)
	}
	if fi.Size() < t.offset {
		// Truncated in place (copytruncate): what was cut is gone, the new
		// content starts at 0.
		t.offset, t.partial = 0, t.partial[:0]
	}
	var read int64
	for read < budget {
		want := min(int64(len(t.buf)), budget-read)
		n, err := t.f.ReadAt(t.buf[:want], t.offset)
		if n > 0 {
			t.offset += int64(n)
			read += int64(n)
			t.consume(t.buf[:n], fn)
		}
		if err == io.EOF || n == 0 {
			return read, nil
		}
		if err != nil {
			return read, fmt.Errorf("read log: %w", err)
		}
	}
	return read, nil
}

// consume passes the complete lines of partial+data to fn and keeps the rest.
func (t *tailer) consume(data []byte, fn func([]byte)) {
	last := bytes.LastIndexByte(data, '\n')
	if last < 0 {
		if len(t.partial)+len(data) <= maxPartial {
			t.partial = append(t.partial, data...)
		}
		return
	}
	if len(t.partial) > 0 {
		first := bytes.IndexByte(data, '\n')
		t.partial = append(t.partial, data[:first+1]...)
		fn(t.partial)
		t.partial = t.partial[:0]
		data = data[first+1:]
		last -= first + 1
	}
	if last >= 0 {
		fn(data[:last+1])
	}
	if rest := data[last+1:]; len(rest) <= maxPartial {
		t.partial = append(t.partial, rest...)
	}
}

func (t *tailer) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}
