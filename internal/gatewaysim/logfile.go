package gatewaysim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// logArchives is how many rotated files the gateway keeps (DATE.1.log … DATE.5.log).
const logArchives = 5

// logFile writes tslog lines to openclaw[-profile]-YYYY-MM-DD.log in dir and
// rotates by size the way the gateway does: the live file becomes
// DATE.1.log, .1 becomes .2, and so on up to .5, which is dropped.
type logFile struct {
	dir      string
	profile  string
	maxBytes int64
	hostname string

	mu   sync.Mutex
	path string
	f    *os.File
	size int64
}

func openLogFile(dir, profile string, maxBytes int64) (*logFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("log directory %s: %w", dir, err)
	}
	host, _ := os.Hostname()
	w := &logFile{dir: dir, profile: profile, maxBytes: maxBytes, hostname: host}
	if err := w.openFor(time.Now()); err != nil {
		return nil, err
	}
	return w, nil
}

// Log writes one record; errors are returned for the caller to count, a
// simulator must not die of a full disk.
func (w *logFile) Log(level openclaw.Level, subsystem, msg string) error {
	now := time.Now()
	line := openclaw.EncodeRecord(openclaw.Record{Time: now, Level: level, Subsystem: subsystem, Message: msg}, w.hostname)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return errors.New("log file closed")
	}
	if filepath.Join(w.dir, openclaw.LogFileName(w.profile, now)) != w.path {
		if err := w.openFor(now); err != nil {
			return err
		}
	}
	if w.size > 0 && w.size+int64(len(line)) > w.maxBytes {
		if err := w.rotate(now); err != nil {
			return err
		}
	}
	n, err := w.f.Write(line)
	w.size += int64(n)
	return err
}

// openFor opens (appending) the file for the day of now.
func (w *logFile) openFor(now time.Time) error {
	path := filepath.Join(w.dir, openclaw.LogFileName(w.profile, now))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat log file: %w", err)
	}
	if w.f != nil {
		w.f.Close()
	}
	w.f, w.path, w.size = f, path, fi.Size()
	return nil
}

// rotate renames while the file is still open, so that a failed rename
// leaves the writer usable on the old file.
func (w *logFile) rotate(now time.Time) error {
	for i := logArchives - 1; i >= 1; i-- {
		err := os.Rename(openclaw.RotatedLogName(w.path, i), openclaw.RotatedLogName(w.path, i+1))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate log: %w", err)
		}
	}
	if err := os.Rename(w.path, openclaw.RotatedLogName(w.path, 1)); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	return w.openFor(now)
}

func (w *logFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
