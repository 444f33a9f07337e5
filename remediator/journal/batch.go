package journal

import bolt "go.etcd.io/bbolt"

// Batch runs fn in a durable transaction shared with the writers that
// arrive while the previous commit runs (webhook admissions, other runners'
// stages): one commit and one fsync for all of them, where Update costs
// each its own. When Batch returns without error, fn's writes are on disk,
// as with Update; what fn writes is visible to the peers after it in the
// same transaction, as to any later transaction.
//
// fn may run more than once: when a peer's function fails, the group is
// rolled back and the others run again (and the failed one alone). fn must
// therefore read what it changes from tx on every run, set every result it
// hands out afresh, and do nothing outside tx that is wrong to repeat.
func (j *Journal) Batch(fn func(Tx) error) error {
	return j.batch(func(tx *bolt.Tx) error { return fn(Tx{tx}) })
}
