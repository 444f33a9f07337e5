package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// States of a guarded upgrade.
const (
	UpgradeRunning     = "running"     // a batch is being upgraded or observed
	UpgradeDone        = "done"        // every batch upgraded and observed
	UpgradeFailed      = "failed"      // a batch failed; it was rolled back, the rest never touched
	UpgradeInterrupted = "interrupted" // the remediator stopped mid-upgrade; not resumed
	UpgradeRefused     = "refused"     // a preflight said no (a known-bad target, OpenClaw's own checks); nothing ran
)

// States of one batch of an upgrade.
const (
	BatchPending        = "pending"         // not started
	BatchUpdating       = "updating"        // rollback points recorded; update commands run
	BatchObserving      = "observing"       // updated and verified; observed in Prometheus
	BatchDone           = "done"            // observed without a problem
	BatchRolledBack     = "rolled_back"     // failed, and every target verified back on its version
	BatchRollbackFailed = "rollback_failed" // failed, and a rollback failed too
	BatchInterrupted    = "interrupted"     // the remediator stopped during the batch
)

// Upgrade is one guarded upgrade of a set of targets to a version, batch
// by batch; it is journaled before each step acts, so that a restart knows
// which batches were touched.
type Upgrade struct {
	ID        string         `json:"id"`
	To        string         `json:"to"`
	BatchSize int            `json:"batchSize"`
	State     string         `json:"state"`
	Reason    string         `json:"reason,omitempty"`
	StartedAt time.Time      `json:"startedAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
	EndedAt   *time.Time     `json:"endedAt,omitempty"`
	Batches   []UpgradeBatch `json:"batches"`
}

// UpgradeBatch is the targets upgraded and observed together.
type UpgradeBatch struct {
	State       string        `json:"state"`
	Steps       []UpgradeStep `json:"steps"`
	Observation string        `json:"observation,omitempty"`
	StartedAt   *time.Time    `json:"startedAt,omitempty"`
	EndedAt     *time.Time    `json:"endedAt,omitempty"`
}

// UpgradeStep is one target of a batch.
type UpgradeStep struct {
	Target string `json:"target"`
	// From is the version the target ran before, its rollback point.
	From string   `json:"from,omitempty"`
	Argv []string `json:"argv,omitempty"`
	// Skipped: the target already ran the version; nothing was run.
	Skipped      bool   `json:"skipped,omitempty"`
	Updated      bool   `json:"updated,omitempty"` // the update command was started
	Output       string `json:"output,omitempty"`
	Verification string `json:"verification,omitempty"`
	Error        string `json:"error,omitempty"`
	Rollback     string `json:"rollback,omitempty"` // what the rollback did
	// Backup is the state archive taken before the update command ran,
	// restored by a rollback to From.
	Backup string `json:"backup,omitempty"`
	// Preflight is what the checks before the upgrade found for this
	// target, in their own words.
	Preflight string `json:"preflight,omitempty"`
	// Status is what the gateway's updater reported after a verified
	// update (`openclaw update status --json`).
	Status string `json:"status,omitempty"`
	// Package is the package directory From ran, kept aside before the
	// update command ran; a rollback to From swaps it back.
	Package string `json:"package,omitempty"`
}

// RecordBackup notes archive as the state of version v, the rollback point
// of an upgrade away from it: v becomes the most recent version on record.
func (t *Target) RecordBackup(v, archive string, at time.Time) {
	t.RecordVersion(v, at)
	t.Versions[len(t.Versions)-1].Backup = archive
}

// RecordPackage notes pkg, kept aside while v ran on Node node, as the
// package of version v: v becomes the most recent version on record.
func (t *Target) RecordPackage(v, pkg, node string, at time.Time) {
	t.RecordVersion(v, at)
	t.Versions[len(t.Versions)-1].Package = pkg
	t.Versions[len(t.Versions)-1].Node = node
}

// Packages lists the kept packages the target's versions name.
func (t *Target) Packages() []string {
	var out []string
	for _, v := range t.Versions {
		if v.Package != "" {
			out = append(out, v.Package)
		}
	}
	return out
}

// Backups lists the state archives the target's versions name.
func (t *Target) Backups() []string {
	var out []string
	for _, v := range t.Versions {
		if v.Backup != "" {
			out = append(out, v.Backup)
		}
	}
	return out
}

// Active reports whether the upgrade has not ended.
func (u *Upgrade) Active() bool { return u.State == UpgradeRunning }

// Ended says whether the batch reached a final state.
func (b *UpgradeBatch) Ended() bool {
	return b.State != BatchPending && b.State != BatchUpdating && b.State != BatchObserving
}

var bucketUpgrades = []byte("upgrades")

// ErrUpgradeNotFound is returned for an unknown upgrade id.
var ErrUpgradeNotFound = errors.New("upgrade not found")

// Upgrade reads one upgrade.
func (t Tx) Upgrade(id string) (*Upgrade, error) { return getUpgrade(t.tx, id) }

// PutUpgrade writes an upgrade.
func (t Tx) PutUpgrade(u *Upgrade) error {
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode upgrade %s: %w", u.ID, err)
	}
	b, err := t.tx.CreateBucketIfNotExists(bucketUpgrades)
	if err != nil {
		return err
	}
	return b.Put([]byte(u.ID), data)
}

// PutUpgrade writes an upgrade in its own durable transaction.
func (j *Journal) PutUpgrade(u *Upgrade) error {
	return j.Update(func(tx Tx) error { return tx.PutUpgrade(u) })
}

// Upgrade reads one upgrade.
func (j *Journal) Upgrade(id string) (*Upgrade, error) {
	var u *Upgrade
	err := j.db.View(func(tx *bolt.Tx) error {
		var err error
		u, err = getUpgrade(tx, id)
		return err
	})
	return u, err
}

// Upgrades lists every upgrade, most recent first (ids sort by start).
func (j *Journal) Upgrades() ([]*Upgrade, error) {
	var out []*Upgrade
	err := j.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUpgrades)
		if b == nil {
			return nil // a journal written before upgrades existed
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var u Upgrade
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("upgrade %s: %w", k, err)
			}
			out = append(out, &u)
		}
		return nil
	})
	return out, err
}

func getUpgrade(tx *bolt.Tx, id string) (*Upgrade, error) {
	b := tx.Bucket(bucketUpgrades)
	if b == nil {
		return nil, ErrUpgradeNotFound
	}
	raw := b.Get([]byte(id))
	if raw == nil {
		return nil, ErrUpgradeNotFound
	}
	var u Upgrade
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("upgrade %s: %w", id, err)
	}
	return &u, nil
}
