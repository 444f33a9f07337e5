package journal

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds the writers one commit takes (bbolt's MaxBatchSize); the
// rest wait for the next commit.
const maxGroup = 1000

// group commits concurrent writers together (group commit): a writer that
// finds no commit running commits at once, alone; the writers that arrive
// meanwhile share the next commit, and so on. Under load a commit takes
// everyone who waited for the one before, so the number of commits (and
// fsyncs) follows the disk, not the writers, and no writer waits for a
// timer: bbolt's DB.Batch waited MaxBatchDelay (10 ms) before every batch,
// and its batches then queued on the writer lock one behind the other.
type group struct {
	mu      sync.Mutex
	pending []*groupCall
	running bool // a goroutine is committing pending groups
}

type groupCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// errSolo tells a writer whose function failed inside a group to run it
// again in a transaction of its own, so that its error is its own and the
// others' writes commit without it.
var errSolo = errors.New("journal: run alone")

// run runs fn in a write transaction shared with the writers around it.
// fn may run more than once: a failing peer makes the others run again.
func (g *group) run(db *bolt.DB, fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, err: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		go g.commitAll(db)
	}
	if err := <-c.err; !errors.Is(err, errSolo) {
		return err
	}
	return db.Update(fn)
}

// commitAll commits what is pending, group after group, until nothing is.
func (g *group) commitAll(db *bolt.DB) {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxGroup)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		calls := g.pending[:n:n]
		g.pending = g.pending[n:]
		g.mu.Unlock()
		commitGroup(db, calls)
	}
}

// commitGroup runs calls in one transaction. When one fails, it is told to
// run alone and the others run again without it, as bbolt's Batch does.
func commitGroup(db *bolt.DB, calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safely(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.err <- err
			}
			return
		}
		calls[failed].err <- errSolo
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

// safely runs fn, turning a panic into an error so that one writer's bug
// does not take the others' commit down with it.
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("journal: panic in a write: %v", p)
		}
	}()
	return fn(tx)
}
