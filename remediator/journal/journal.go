// Package journal is the remediator's durable record: incidents, the
// decisions taken for them, the actions run with their results, and the
// per-target state that gates further actions (attempts, cooldown, circuit,
// versions that verified healthy).
//
// It is a bbolt file. bbolt is pure Go (no cgo, so the static binary and the
// race detector keep working), one file, and every read-write transaction is
// ACID with an fsync at commit: an incident acknowledged to Alertmanager is on
// disk. Webhooks (Admit) and the runners' stages (Batch) commit in groups
// (group commit, see group): the writers that arrive while a commit runs
// share the next transaction and fsync, so a storm of deliveries costs a
// few fsyncs, not one each, and a runner's commit joins the webhooks'
// instead of queueing for its own. SQLite would add cgo or a large transpiled driver for queries
// we do not need: incidents are looked up by key and listed by a scan bounded
// by the retention.
package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// States of an incident.
const (
	StateReceived = "received" // recorded, not decided yet
	StatePending  = "pending"  // waits for approval
	StateQueued   = "queued"   // decided to act, waits for its target
	StateRunning  = "running"  // an action runs
	StateDone     = "done"     // finished: acted, skipped or refused
)

// Decisions, the label values of openclaw_remediator_incidents_total.
const (
	DecisionExecuted        = "executed"
	DecisionDuplicate       = "duplicate"
	DecisionNoMatch         = "no_match"
	DecisionCooldown        = "cooldown"
	DecisionRateLimited     = "rate_limited"
	DecisionCircuitOpen     = "circuit_open"
	DecisionDryRun          = "dry_run"
	DecisionPendingApproval = "pending_approval"
	DecisionRejected        = "rejected"
	DecisionExpired         = "expired"
	// DecisionUpgrading: a disruptive action refused because a guarded
	// upgrade holds the target, so the two never act on one gateway.
	DecisionUpgrading = "upgrading"
	// DecisionWaitingQuiet: the incident waits, received, for a quiet
	// moment on its gateway (Incident.Quiet); counted once, when it starts
	// waiting.
	DecisionWaitingQuiet = "waiting_quiet"
	// DecisionResolved: the alert resolved while its incident waited for
	// a quiet moment; the trouble it predicted is no longer predicted.
	DecisionResolved = "resolved"
)

// Decisions lists every decision.
var Decisions = []string{
	DecisionExecuted, DecisionDuplicate, DecisionNoMatch, DecisionCooldown, DecisionRateLimited,
	DecisionCircuitOpen, DecisionDryRun, DecisionPendingApproval, DecisionRejected, DecisionExpired, DecisionUpgrading,
	DecisionWaitingQuiet, DecisionResolved,
}

// Results of an action, the label values of openclaw_remediator_actions_total.
const (
	ResultSuccess      = "success"
	ResultFailure      = "failure"
	ResultVerifyFailed = "verify_failed"
	ResultInterrupted  = "interrupted"
	// ResultRefused: the action stopped before it touched the gateway
	// because what it needs is missing or unsafe (actions.ErrRefused), for
	// example a rollback with no other healthy version on record. Not a
	// failure: not retried, no attempt used.
	ResultRefused = "refused"
	// ResultPartial: the action did what it safely could and left some of
	// its work alone (actions.ErrPartial), for example log files that
	// changed between cleanup_logs's scan and its act. Not a failure: not
	// retried, and the gateway was not harmed.
	ResultPartial = "partial"
	// ResultElsewhere: another remediator sharing the target (a replica
	// on Kubernetes) finished this incident's action; this one did nothing.
	ResultElsewhere = "elsewhere"
)

// Results lists every action result.
var Results = []string{ResultSuccess, ResultFailure, ResultVerifyFailed, ResultInterrupted, ResultRefused, ResultPartial, ResultElsewhere}

// MaxOutput bounds the output kept per action.
const MaxOutput = 8 << 10

// Incident is one alert occurrence: fingerprint plus startsAt.
type Incident struct {
	ID          string            `json:"id"`
	Fingerprint string            `json:"fingerprint"`
	StartsAt    time.Time         `json:"startsAt"`
	AlertName   string            `json:"alertname,omitempty"`
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Receiver    string            `json:"receiver,omitempty"`
	GroupKey    string            `json:"groupKey,omitempty"`
	ReceivedAt  time.Time         `json:"receivedAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	ResolvedAt  *time.Time        `json:"resolvedAt,omitempty"`
	Deliveries  int               `json:"deliveries"`

	Policy   string `json:"policy,omitempty"`
	Action   string `json:"action,omitempty"`
	Target   string `json:"target,omitempty"`
	DryRun   bool   `json:"dryRun,omitempty"`
	Approval bool   `json:"approval,omitempty"`
	State    string `json:"state"`
	Decision string `json:"decision,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// ExpiresAt is when a pending approval expires.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	Approved  bool       `json:"approved,omitempty"`
	// Quiet is the incident's wait for a quiet moment, from its policy.
	Quiet *Quiet `json:"quiet,omitempty"`

	Actions []Action `json:"actions,omitempty"`
}

// Quiet is an incident's wait for a moment with no active agent turns on
// its gateway. The incident stays received while it waits, so a restart
// of the remediator queues it again and the wait goes on to the same
// deadline.
type Quiet struct {
	// Until is the deadline, set at admission; Then what the incident
	// does when it passes without a quiet moment: "approval" or "act".
	Until time.Time `json:"until"`
	Then  string    `json:"then"`
	// CheckedAt, ActiveTurns and Error are the last look at the gateway.
	CheckedAt   *time.Time `json:"checkedAt,omitempty"`
	ActiveTurns int        `json:"activeTurns"`
	Error       string     `json:"error,omitempty"`
	// Outcome says how the wait ended: QuietFound or QuietDeadline; ""
	// while it waits.
	Outcome string `json:"outcome,omitempty"`
}

// How a quiet wait ended.
const (
	QuietFound    = "quiet"
	QuietDeadline = "deadline"
)

// Action is one attempt of an action on a target.
type Action struct {
	Attempt      int        `json:"attempt"`
	Action       string     `json:"action"`
	Target       string     `json:"target"`
	StartedAt    time.Time  `json:"startedAt"`
	EndedAt      *time.Time `json:"endedAt,omitempty"`
	Result       string     `json:"result,omitempty"`
	Output       string     `json:"output,omitempty"`
	Verification string     `json:"verification,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// Running reports whether the incident's last action has not ended.
func (i *Incident) Running() *Action {
	if n := len(i.Actions); n > 0 && i.Actions[n-1].EndedAt == nil {
		return &i.Actions[n-1]
	}
	return nil
}

// Version is a gateway version seen healthy after an action.
type Version struct {
	Version    string    `json:"version"`
	VerifiedAt time.Time `json:"verifiedAt"`
	// Backup is the state archive taken while this version ran, before a
	// guarded upgrade moved the target off it: a rollback to this version
	// restores it, since the newer version may have migrated the state.
	Backup string `json:"backup,omitempty"`
	// Package is this version's package directory, kept aside before it
	// was replaced, and Node the Node.js it ran on: a rollback to this
	// version swaps it back (journal/upgrade.go).
	Package string `json:"package,omitempty"`
	Node    string `json:"node,omitempty"`
	// Revision is what the platform ran this version as (a Kubernetes
	// ReplicaSet or ControllerRevision): a rollback puts it back.
	Revision string `json:"revision,omitempty"`
}

// Target is the gate's memory for one target.
type Target struct {
	Name string `json:"name"`
	// Attempts are the start times of actions inside the limit window.
	Attempts    []time.Time `json:"attempts,omitempty"`
	LastEnd     time.Time   `json:"lastEnd,omitzero"`
	Failures    int         `json:"consecutiveFailures,omitempty"`
	CircuitOpen bool        `json:"circuitOpen,omitempty"`
	OpenedAt    time.Time   `json:"openedAt,omitzero"`
	// LastHit is the last incident refused by the open circuit; the quiet
	// period counts from it.
	LastHit  time.Time `json:"lastHit,omitzero"`
	Reason   string    `json:"reason,omitempty"`
	Versions []Version `json:"versions,omitempty"`
}

// KeepVersions bounds the verified-healthy versions kept per target.
const KeepVersions = 10

// RecordVersion notes v as verified healthy at t, most recent last.
func (t *Target) RecordVersion(v string, at time.Time) {
	next := Version{Version: v}
	t.Versions = slices.DeleteFunc(t.Versions, func(x Version) bool {
		if x.Version == v {
			next = x // its rollback points stay
		}
		return x.Version == v
	})
	next.VerifiedAt = at
	t.Versions = append(t.Versions, next)
	if n := len(t.Versions); n > KeepVersions {
		t.Versions = t.Versions[n-KeepVersions:]
	}
}

// RecordRevision notes the platform's revision of the recorded version v.
func (t *Target) RecordRevision(v, revision string) {
	for i := range t.Versions {
		if t.Versions[i].Version == v {
			t.Versions[i].Revision = revision
		}
	}
}

var (
	bucketIncidents = []byte("incidents")
	bucketTargets   = []byte("targets")
	// bucketPending indexes the incidents that wait for approval: id →
	// since when (RFC 3339). put keeps it in the transaction that changes
	// the incident; Recover rebuilds it.
	bucketPending = []byte("pending")
)

// ErrNotFound is returned for an unknown incident id.
var ErrNotFound = errors.New("incident not found")

// ID is the incident id for an alert: a digest of fingerprint and startsAt,
// so every delivery of the same occurrence, from any Alertmanager of an HA
// pair, names the same incident.
func ID(fingerprint string, startsAt time.Time) string {
	h := sha256.New()
	h.Write([]byte(fingerprint))
	h.Write([]byte{0})
	h.Write([]byte(startsAt.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Journal is an open journal file.
type Journal struct {
	db   *bolt.DB
	path string
	commits
	group group // the writers of Admit and Batch
}

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for the file lock that another
	// process holds; 0: DefaultLockTimeout.
	LockTimeout time.Duration
}

// Open opens or creates the journal file. An existing file is checked
// first, read-only (Check): a damaged one is a *DamagedError and is not
// written to, where bbolt would panic on it, maybe after rewriting a meta
// page. A second process opening the same file waits up to LockTimeout for
// the file lock, then fails with ErrLocked.
func Open(path string, o Options) (*Journal, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("journal directory: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		if _, err := Check(path, o.LockTimeout); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	var db *bolt.DB
	err := guard(path, "open", func() error {
		var err error
		if db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout}); err != nil {
			return openError(path, o.LockTimeout, err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketIncidents, bucketTargets, bucketPending} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("initialise journal %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, err
	}
	return &Journal{db: db, path: path}, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Close closes the file.
func (j *Journal) Close() error { return j.db.Close() }

// Admission is what Admit did with one alert.
type Admission struct {
	Incident *Incident
	// New is true when this delivery created the incident.
	New bool
	// Known is false for a resolved alert of an unknown incident.
	Known bool
}

// Admit records the alerts of one webhook delivery in a shared, durable
// batch: a firing alert with an unknown id creates its incident (as given),
// any other delivery of a known incident counts as a duplicate, and a
// resolved alert marks its incident resolved. When Admit returns without
// error, every incident it returns is on disk.
//
// A firing alert is encoded as a new incident before the batch, so that the
// common case of a storm (new alerts) costs no JSON under bbolt's writer
// lock, on which every webhook and every runner's stage waits; only a
// delivery of a known incident is decoded and encoded again under it.
func (j *Journal) Admit(alerts []*Incident, now time.Time) ([]Admission, error) {
	fresh := make([]*Incident, len(alerts))
	encoded := make([][]byte, len(alerts))
	for i, a := range alerts {
		if a.Status != "firing" {
			continue
		}
		inc := *a
		inc.Deliveries, inc.ReceivedAt, inc.UpdatedAt = 1, now, now
		data, err := json.Marshal(&inc)
		if err != nil {
			return nil, fmt.Errorf("journal admit: encode incident %s: %w", a.ID, err)
		}
		fresh[i], encoded[i] = &inc, data
	}
	var out []Admission
	err := j.batch(func(tx *bolt.Tx) error {
		// Batch may run this function again after a failed peer: start over.
		out = make([]Admission, 0, len(alerts))
		b := tx.Bucket(bucketIncidents)
		for i, a := range alerts {
			raw := b.Get([]byte(a.ID))
			if raw == nil {
				if fresh[i] == nil { // resolved, of an unknown incident
					out = append(out, Admission{Incident: a})
					continue
				}
				if err := b.Put([]byte(a.ID), encoded[i]); err != nil {
					return err
				}
				out = append(out, Admission{Incident: fresh[i], New: true, Known: true})
				continue
			}
			var inc Incident
			if err := json.Unmarshal(raw, &inc); err != nil {
				return fmt.Errorf("incident %s: %w", a.ID, err)
			}
			inc.Deliveries++
			inc.UpdatedAt = now
			if a.Status == "resolved" && inc.ResolvedAt == nil {
				inc.Status = "resolved"
				inc.ResolvedAt = &now
			}
			if err := put(tx, &inc); err != nil {
				return err
			}
			out = append(out, Admission{Incident: &inc, Known: true})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal admit: %w", err)
	}
	return out, nil
}

// put stores an incident and keeps the index of those pending.
func put(tx *bolt.Tx, inc *Incident) error {
	data, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("encode incident %s: %w", inc.ID, err)
	}
	if err := tx.Bucket(bucketIncidents).Put([]byte(inc.ID), data); err != nil {
		return err
	}
	return index(tx.Bucket(bucketPending), inc)
}

// index notes a pending incident, since its UpdatedAt when first noted,
// and forgets one no longer pending.
func index(b *bolt.Bucket, inc *Incident) error {
	id := []byte(inc.ID)
	if inc.State != StatePending {
		return b.Delete(id)
	}
	if b.Get(id) != nil {
		return nil
	}
	return b.Put(id, []byte(inc.UpdatedAt.UTC().Format(time.RFC3339Nano)))
}

// PendingIncident is an incident waiting for approval, and since when.
type PendingIncident struct {
	ID    string
	Since time.Time
}

// Pending lists the incidents that wait for approval.
func (j *Journal) Pending() ([]PendingIncident, error) {
	var out []PendingIncident
	err := j.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
			since, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("pending %s: %w", k, err)
			}
			out = append(out, PendingIncident{ID: string(k), Since: since})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("journal pending: %w", err)
	}
	return out, nil
}

// Tx is a read-write transaction over incidents and targets.
type Tx struct{ tx *bolt.Tx }

// Incident reads one incident.
func (t Tx) Incident(id string) (*Incident, error) { return getIncident(t.tx, id) }

// PutIncident writes an incident.
func (t Tx) PutIncident(inc *Incident) error { return put(t.tx, inc) }

// Target reads the state of a target; an unknown target starts empty.
func (t Tx) Target(name string) (*Target, error) { return getTarget(t.tx, name) }

// PutTarget writes a target's state.
func (t Tx) PutTarget(ts *Target) error {
	data, err := json.Marshal(ts)
	if err != nil {
		return fmt.Errorf("encode target %s: %w", ts.Name, err)
	}
	return t.tx.Bucket(bucketTargets).Put([]byte(ts.Name), data)
}

// Update runs fn in one durable transaction.
func (j *Journal) Update(fn func(Tx) error) error {
	return j.update(func(tx *bolt.Tx) error { return fn(Tx{tx}) })
}

// Incident reads one incident.
func (j *Journal) Incident(id string) (*Incident, error) {
	var inc *Incident
	err := j.db.View(func(tx *bolt.Tx) error {
		var err error
		inc, err = getIncident(tx, id)
		return err
	})
	return inc, err
}

// Target reads a target's state.
func (j *Journal) Target(name string) (*Target, error) {
	var ts *Target
	err := j.db.View(func(tx *bolt.Tx) error {
		var err error
		ts, err = getTarget(tx, name)
		return err
	})
	return ts, err
}

// Targets reads the state of every target that has one.
func (j *Journal) Targets() ([]*Target, error) {
	var out []*Target
	err := j.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTargets).ForEach(func(k, v []byte) error {
			var ts Target
			if err := json.Unmarshal(v, &ts); err != nil {
				return fmt.Errorf("target %s: %w", k, err)
			}
			out = append(out, &ts)
			return nil
		})
	})
	return out, err
}

func getIncident(tx *bolt.Tx, id string) (*Incident, error) {
	raw := tx.Bucket(bucketIncidents).Get([]byte(id))
	if raw == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	var inc Incident
	if err := json.Unmarshal(raw, &inc); err != nil {
		return nil, fmt.Errorf("incident %s: %w", id, err)
	}
	return &inc, nil
}

func getTarget(tx *bolt.Tx, name string) (*Target, error) {
	ts := &Target{Name: name}
	raw := tx.Bucket(bucketTargets).Get([]byte(name))
	if raw == nil {
		return ts, nil
	}
	if err := json.Unmarshal(raw, ts); err != nil {
		return nil, fmt.Errorf("target %s: %w", name, err)
	}
	return ts, nil
}

// Filter selects incidents for List; zero fields match everything.
type Filter struct {
	State    string
	Decision string
	Target   string
	Action   string
	Since    time.Time
	Limit    int
	// After is a cursor from a previous page (Page.Next): the listing
	// continues after that incident.
	After string
}

func (f Filter) match(inc *Incident) bool {
	return (f.State == "" || inc.State == f.State) &&
		(f.Decision == "" || inc.Decision == f.Decision) &&
		(f.Target == "" || inc.Target == f.Target) &&
		(f.Action == "" || inc.Action == f.Action) &&
		(f.Since.IsZero() || !inc.UpdatedAt.Before(f.Since))
}

// List returns matching incidents, most recently received first.
func (j *Journal) List(f Filter) ([]*Incident, error) {
	p, err := j.ListPage(f)
	return p.Incidents, err
}

// Page is one page of a listing. Next, when set, is the cursor (Filter.After)
// of the page after it.
type Page struct {
	Incidents []*Incident
	Next      string
}

// ErrBadCursor means a cursor that no listing made.
var ErrBadCursor = errors.New("not a cursor of this listing")

// cursor is a position in the listing's order (received at, descending, then
// id): it stays valid when incidents before it are added or pruned.
type cursor struct {
	received time.Time
	id       string
}

func (c cursor) String() string {
	return strconv.FormatInt(c.received.UnixNano(), 36) + "." + c.id
}

func parseCursor(s string) (cursor, error) {
	ns, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ns, 36, 64)
	if !ok || err != nil || id == "" {
		return cursor{}, fmt.Errorf("cursor %q: %w", s, ErrBadCursor)
	}
	return cursor{time.Unix(0, n), id}, nil
}

// notAfter reports whether inc comes before the cursor's position in the
// listing, or at it.
func (c cursor) notAfter(inc *Incident) bool {
	if !inc.ReceivedAt.Equal(c.received) {
		return inc.ReceivedAt.After(c.received)
	}
	return inc.ID <= c.id
}

// ListPage returns a page of matching incidents, most recently received
// first, and the cursor of the next page when there are more.
func (j *Journal) ListPage(f Filter) (Page, error) {
	var after *cursor
	if f.After != "" {
		c, err := parseCursor(f.After)
		if err != nil {
			return Page{}, err
		}
		after = &c
	}
	var out []*Incident
	err := j.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			var inc Incident
			if err := json.Unmarshal(v, &inc); err != nil {
				return fmt.Errorf("incident %s: %w", k, err)
			}
			if f.match(&inc) && (after == nil || !after.notAfter(&inc)) {
				out = append(out, &inc)
			}
			return nil
		})
	})
	sort.Slice(out, func(a, b int) bool {
		if !out[a].ReceivedAt.Equal(out[b].ReceivedAt) {
			return out[a].ReceivedAt.After(out[b].ReceivedAt)
		}
		return out[a].ID < out[b].ID
	})
	p := Page{Incidents: out}
	if f.Limit > 0 && len(out) > f.Limit {
		p.Incidents = out[:f.Limit]
		last := p.Incidents[f.Limit-1]
		p.Next = cursor{last.ReceivedAt, last.ID}.String()
	}
	return p, err
}

// Recovery is what Recover found after a restart.
type Recovery struct {
	// Interrupted incidents had an action running; it is marked interrupted
	// and not run again.
	Interrupted []*Incident
	// Undecided incidents were acknowledged but not yet decided or started.
	Undecided []*Incident
	// Pending incidents still wait for approval.
	Pending []*Incident
}

// Recover runs once at start: running actions become interrupted, and the
// incidents that still need work are returned.
func (j *Journal) Recover(now time.Time) (Recovery, error) {
	var r Recovery
	err := j.update(func(tx *bolt.Tx) error {
		r = Recovery{}
		// The index of pending incidents is rebuilt, keeping the times it
		// knows: a salvaged journal's may name incidents that were not
		// saved, or lack some.
		since := map[string][]byte{}
		if old := tx.Bucket(bucketPending); old != nil {
			if err := old.ForEach(func(k, v []byte) error { since[string(k)] = bytes.Clone(v); return nil }); err != nil {
				return err
			}
			if err := tx.DeleteBucket(bucketPending); err != nil {
				return err
			}
		}
		pending, err := tx.CreateBucket(bucketPending)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketIncidents)
		var changed []*Incident
		err = b.ForEach(func(k, v []byte) error {
			var inc Incident
			if err := json.Unmarshal(v, &inc); err != nil {
				return fmt.Errorf("incident %s: %w", k, err)
			}
			switch inc.State {
			case StateRunning:
				if err := inc.Interrupt(now); err != nil {
					return err
				}
				changed = append(changed, &inc)
				r.Interrupted = append(r.Interrupted, &inc)
			case StateReceived, StateQueued:
				r.Undecided = append(r.Undecided, &inc)
			case StatePending:
				r.Pending = append(r.Pending, &inc)
				if v, ok := since[inc.ID]; ok {
					return pending.Put(k, v)
				}
				return index(pending, &inc)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, inc := range changed {
			if err := put(tx, inc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Recovery{}, fmt.Errorf("journal recover: %w", err)
	}
	byReceived := func(s []*Incident) {
		sort.Slice(s, func(a, b int) bool { return s[a].ReceivedAt.Before(s[b].ReceivedAt) })
	}
	byReceived(r.Undecided)
	byReceived(r.Pending)
	return r, nil
}

// Prune deletes finished incidents last updated before cutoff. Incidents that
// wait or run are kept whatever their age.
//
// The whole bucket is read in a read-only transaction, which takes no lock
// from the writers: decoding every incident of a large journal under bbolt's
// writer lock stalled every webhook and runner for as long (tens of
// milliseconds at 10,000 incidents). Only the incidents found are deleted in
// the write transaction, each checked again there, since a delivery may
// have updated it meanwhile.
func (j *Journal) Prune(cutoff time.Time) (int, error) {
	var candidates [][]byte
	err := j.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			if prunable(v, cutoff) {
				candidates = append(candidates, bytes.Clone(k))
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("journal prune: %w", err)
	}
	if len(candidates) == 0 {
		return 0, nil
	}
	afterPruneScan()
	n := 0
	err = j.update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketIncidents)
		for _, k := range candidates {
			if v := b.Get(k); v == nil || !prunable(v, cutoff) {
				continue
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal prune: %w", err)
	}
	return n, nil
}

// afterPruneScan runs between Prune's two transactions; tests write there.
var afterPruneScan = func() {}

// prunable says whether a stored incident is finished and last updated
// before cutoff; one that cannot be decoded is kept.
func prunable(v []byte, cutoff time.Time) bool {
	var inc struct {
		State     string    `json:"state"`
		UpdatedAt time.Time `json:"updatedAt"`
	}
	return json.Unmarshal(v, &inc) == nil && inc.State == StateDone && inc.UpdatedAt.Before(cutoff)
}

// Truncate bounds s to MaxOutput bytes, keeping its end, where errors are.
func Truncate(s string) string {
	if len(s) <= MaxOutput {
		return s
	}
	return "…(truncated)…" + s[len(s)-MaxOutput:]
}
