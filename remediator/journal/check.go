package journal

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultLockTimeout is how long Open, Check and Salvage wait for the
// journal's file lock, held by a remediator that has it open.
const DefaultLockTimeout = 5 * time.Second

// DamagedError is a journal that failed its check. Nothing was written to
// it.
type DamagedError struct {
	Path     string
	Problems []string
}

func (e *DamagedError) Error() string {
	const show = 3
	p := e.Problems
	more := ""
	if len(p) > show {
		p, more = p[:show], fmt.Sprintf(" (and %d more)", len(e.Problems)-show)
	}
	return fmt.Sprintf("journal %s is damaged: %s%s; it was not written to: run `openclaw-remediator journal check %s` for every problem and `openclaw-remediator journal salvage %s NEW` to copy its readable records into a new journal (docs/runbooks.md)",
		e.Path, strings.Join(p, "; "), more, e.Path, e.Path)
}

// ErrLocked means another process holds the journal open.
var ErrLocked = errors.New("locked by another process (is another openclaw-remediator using it?)")

// Summary is what Check read from a sound journal.
type Summary struct {
	Size     int64
	PageSize int
	Pages    uint64 // the high-water mark
	TxID     uint64
	// Entries counts the records of each bucket ("incidents", "targets",
	// "upgrades"...).
	Entries map[string]int
}

// Buckets lists the buckets of Entries in order.
func (s Summary) Buckets() []string { return sortedKeys(s.Entries) }

// Check reads the journal at path without writing to it, under a shared
// file lock (so not while a remediator has it open): every page it refers
// to, then bbolt's own consistency check (Tx.Check). A damaged journal is a
// *DamagedError listing the problems.
func Check(path string, lockTimeout time.Duration) (Summary, error) {
	f, err := openShared(path, lockTimeout)
	if err != nil {
		return Summary{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Summary{}, fmt.Errorf("journal %s: %w", path, err)
	}
	pf, err := readPageFile(f, fi.Size())
	if err != nil {
		return Summary{}, &DamagedError{Path: path, Problems: []string{err.Error()}}
	}
	s := Summary{Size: fi.Size(), PageSize: int(pf.ps), Pages: pf.meta.hwm, TxID: pf.meta.txid}
	problems, entries := inspect(pf)
	s.Entries = entries
	if len(problems) > 0 {
		return s, &DamagedError{Path: path, Problems: problems}
	}
	// Only now may bbolt read it: its check runs in a goroutine of its own,
	// where a damaged page would be a panic that nothing can recover.
	problems, err = boltCheck(path, lockTimeout)
	if err != nil {
		return s, err
	}
	if len(problems) > 0 {
		return s, &DamagedError{Path: path, Problems: problems}
	}
	return s, nil
}

// boltCheck runs bbolt's Tx.Check on a read-only open.
func boltCheck(path string, lockTimeout time.Duration) (problems []string, err error) {
	err = guard(path, "check", func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
		if err != nil {
			return openError(path, lockTimeout, err)
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				problems = append(problems, err.Error())
			}
			return nil
		})
	})
	return problems, err
}

// guard runs fn, which reads the journal through bbolt, turning a panic or
// a memory fault on a damaged page into an error naming the file.
func guard(path, what string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = &DamagedError{Path: path, Problems: []string{fmt.Sprintf("bbolt failed on a damaged page during %s: %v", what, p)}}
		}
	}()
	return fn()
}

// openError words an error of bolt.Open.
func openError(path string, lockTimeout time.Duration, err error) error {
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("journal %s: %w: gave up after %s", path, ErrLocked, lockTimeout)
	}
	return fmt.Errorf("open journal %s: %w", path, err)
}

// openShared opens path read-only under a shared lock, as a read-only bbolt
// open does: a remediator holds the exclusive one while it runs.
func openShared(path string, lockTimeout time.Duration) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	deadline := time.Now().Add(lockTimeout)
	for {
		err := lockShared(f)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, errWouldBlock) || time.Now().After(deadline) {
			f.Close()
			if errors.Is(err, errWouldBlock) {
				return nil, fmt.Errorf("journal %s: %w: gave up after %s", path, ErrLocked, lockTimeout)
			}
			return nil, fmt.Errorf("journal %s: lock: %w", path, err)
		}
		time.Sleep(50 * time.Millisecond) // bbolt polls its lock the same way
	}
}
