package journal

import (
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// commits remembers whether the journal's writes reach the disk: the last
// commit that failed (a full disk, an I/O error) until one succeeds again.
// A remediator that cannot commit answers every webhook 503, so it reports
// itself unready, and an HA peer or a load balancer takes the webhooks.
type commits struct {
	mu       sync.Mutex
	err      error
	since    time.Time // first failure of the current run of failures
	last     time.Time // the latest failure
	failures int
}

// note records the outcome of a write transaction: committed says that
// its function succeeded, so that an error is the commit's own (or the
// transaction's begin), not the caller's refusal.
func (c *commits) note(committed bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		c.err, c.since, c.failures = nil, time.Time{}, 0
	case committed:
		if c.failures == 0 {
			c.since = time.Now()
		}
		c.err, c.last = err, time.Now()
		c.failures++
	}
}

// CommitError is nil while the journal commits, otherwise an error saying
// since when and how often its commits failed, and the last failure. It
// clears at the next commit that succeeds.
func (j *Journal) CommitError() error {
	j.commits.mu.Lock()
	defer j.commits.mu.Unlock()
	if j.commits.err == nil {
		return nil
	}
	return fmt.Errorf("journal %s cannot commit: %d failed commit(s) since %s, the last: %w",
		j.path, j.commits.failures, j.commits.since.UTC().Format(time.RFC3339), j.commits.err)
}

// ProbeCommit commits an empty transaction, which still writes the
// freelist and a meta page and syncs them. The remediator calls it while
// CommitError is set, so that the journal is seen to recover even when no
// webhook arrives to try (a load balancer sends them elsewhere meanwhile).
// Within probeQuiet of the last failed commit it returns that failure
// instead: an empty transaction can commit where an incident's cannot (it
// reuses free pages where an incident's grows the file), and readiness must
// not flap back between webhooks that fail.
func (j *Journal) ProbeCommit() error {
	j.commits.mu.Lock()
	recent := j.commits.err != nil && time.Since(j.commits.last) < probeQuiet
	j.commits.mu.Unlock()
	if recent {
		return j.CommitError()
	}
	return j.update(func(*bolt.Tx) error { return nil })
}

// probeQuiet is how long after a failed commit ProbeCommit waits.
var probeQuiet = 5 * time.Second

// beforeCommit runs after a transaction's function succeeded, before bbolt
// commits; its error fails the transaction as a failed commit would. Tests
// replace it.
var beforeCommit = func() error { return nil }

func (j *Journal) update(fn func(*bolt.Tx) error) error { return j.commit(j.db.Update, fn) }

// batch is update shared with the concurrent writers (group), which may
// run fn more than once; the last run says whether fn failed.
func (j *Journal) batch(fn func(*bolt.Tx) error) error {
	return j.commit(func(fn func(*bolt.Tx) error) error { return j.group.run(j.db, fn) }, fn)
}

// commit runs fn in a write transaction through run (db.Update or
// db.Batch) and notes whether the commit itself failed.
func (j *Journal) commit(run func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error {
	var committed bool
	err := run(func(tx *bolt.Tx) error {
		committed = false
		if err := fn(tx); err != nil {
			return err
		}
		committed = true
		return beforeCommit()
	})
	j.commits.note(committed, err)
	return err
}
