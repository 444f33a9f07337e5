package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SalvageReport is what Salvage copied, per bucket ("incidents", "targets",
// "upgrades", any other by its path), and what it left behind.
type SalvageReport struct {
	Copied map[string]int
	// Skipped counts the records that were read but did not decode as what
	// their bucket holds (an incident whose JSON is damaged).
	Skipped map[string]int
	// Problems are the pages that could not be read; the records on them
	// and under them are lost and not counted anywhere.
	Problems []string
	// Unlinked counts the incidents found on leaf pages that the damaged
	// tree no longer reaches (not in Copied), or found there in a version
	// that decodes where the tree's did not (in Skipped): the latest
	// version of each, which may be older than the lost one, or an
	// incident pruned since (retention prunes it again).
	Unlinked int
}

// Buckets lists every bucket of the report in order.
func (r SalvageReport) Buckets() []string {
	m := map[string]int{}
	for k := range r.Copied {
		m[k] = 0
	}
	for k := range r.Skipped {
		m[k] = 0
	}
	return sortedKeys(m)
}

// salvageBatch bounds the records per transaction of the new journal.
const salvageBatch = 1000

// Salvage copies every readable record of the journal at src into a new
// journal at dst, as bbolt's compact would, but reading src with the
// checked page reader: a damaged page loses the records on it, not the
// walk. src is opened read-only and never written; dst must not exist, and
// appears only complete (written beside it, then linked into place).
func Salvage(src, dst string, lockTimeout time.Duration) (SalvageReport, error) {
	rep := SalvageReport{Copied: map[string]int{}, Skipped: map[string]int{}}
	if _, err := os.Lstat(dst); err == nil {
		return rep, fmt.Errorf("salvage: %s exists; name a new file", dst)
	}
	f, err := openShared(src, lockTimeout)
	if err != nil {
		return rep, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return rep, fmt.Errorf("journal %s: %w", src, err)
	}
	pf, err := readPageFile(f, fi.Size())
	if err != nil {
		return rep, fmt.Errorf("journal %s: nothing to salvage: %w", src, err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".salvage-*")
	if err != nil {
		return rep, fmt.Errorf("salvage: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath)
	// bbolt initialises an empty file as a new database.
	db, err := bolt.Open(tmpPath, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return rep, fmt.Errorf("salvage: %s: %w", tmpPath, err)
	}
	defer db.Close()

	var pending []record
	copied := map[string]bool{} // incidents copied from the tree
	var writeErr error
	flush := func() {
		if writeErr != nil || len(pending) == 0 {
			return
		}
		writeErr = db.Update(func(tx *bolt.Tx) error {
			for _, r := range pending {
				b, err := bucketAt(tx, r.path)
				if err != nil {
					return err
				}
				if r.k == nil { // the bucket itself, maybe empty
					continue
				}
				if err := b.Put(r.k, r.v); err != nil {
					return fmt.Errorf("bucket %s: key %q: %w", strings.Join(r.path, "/"), r.k, err)
				}
			}
			return nil
		})
		pending = pending[:0]
	}
	w := &walker{f: pf,
		bucket: func(path []string) {
			pending = append(pending, record{path: path})
			rep.Copied[strings.Join(path, "/")] += 0
		},
		entry: func(path []string, k, v []byte) {
			name := strings.Join(path, "/")
			if !sound(path, k, v) {
				rep.Skipped[name]++
				return
			}
			rep.Copied[name]++
			if name == string(bucketIncidents) {
				copied[string(k)] = true
			}
			pending = append(pending, record{path, bytes.Clone(k), bytes.Clone(v)})
			if len(pending) >= salvageBatch {
				flush()
			}
		},
	}
	w.walk()
	rep.Problems = w.problems
	if len(w.problems) > 0 {
		for _, r := range unlinkedIncidents(pf, w.seen, copied) {
			pending = append(pending, r)
			rep.Unlinked++
			if len(pending) >= salvageBatch {
				flush()
			}
		}
	}
	flush()
	if writeErr != nil {
		return rep, fmt.Errorf("salvage: write %s: %w", dst, writeErr)
	}
	// A journal without incidents or targets is still one the remediator
	// opens; it creates those buckets itself.
	if err := db.Close(); err != nil {
		return rep, fmt.Errorf("salvage: %s: %w", tmpPath, err)
	}
	if err := os.Link(tmpPath, dst); err != nil {
		return rep, fmt.Errorf("salvage: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil { // the new name, durable
		err = d.Sync()
		d.Close()
		if err != nil {
			return rep, fmt.Errorf("salvage: sync %s: %w", filepath.Dir(dst), err)
		}
	}
	return rep, nil
}

// bucketAt opens the bucket at path, creating it and its parents.
func bucketAt(tx *bolt.Tx, path []string) (*bolt.Bucket, error) {
	b, err := tx.CreateBucketIfNotExists([]byte(path[0]))
	for _, name := range path[1:] {
		if err != nil {
			break
		}
		b, err = b.CreateBucketIfNotExists([]byte(name))
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", strings.Join(path, "/"), err)
	}
	return b, nil
}

// sound says whether a record decodes as what its bucket holds: the
// journal's own buckets hold JSON whose id is the key. Records of other
// buckets are copied as they are.
func sound(path []string, k, v []byte) bool {
	if len(path) != 1 {
		return true
	}
	var id string
	var err error
	switch path[0] {
	case string(bucketIncidents):
		var inc Incident
		err, id = json.Unmarshal(v, &inc), inc.ID
	case string(bucketTargets):
		var t Target
		err, id = json.Unmarshal(v, &t), t.Name
	case string(bucketUpgrades):
		var u Upgrade
		err, id = json.Unmarshal(v, &u), u.ID
	default:
		return true
	}
	return err == nil && id == string(k)
}

type record struct {
	path []string
	k, v []byte
}

// unlinkedIncidents scans the pages a damaged tree did not reach for leaf
// pages of incidents: when a branch page is lost, its leaves still hold
// the incidents under it. Free pages hold older versions too, so the
// latest version of each incident wins, and one the tree gave is kept.
func unlinkedIncidents(pf *pageFile, reached map[uint64]bool, copied map[string]bool) []record {
	type found struct {
		updated time.Time
		k, v    []byte
	}
	best := map[string]found{}
	end := min(pf.meta.hwm, uint64(pf.size)/pf.ps)
	for id := uint64(2); id < end; id++ {
		if reached[id] {
			continue
		}
		p, err := pf.page(id)
		if err != nil || p.flags != flagLeaf {
			continue
		}
		id += p.span - 1
		es, _ := p.elems()
		for _, e := range es {
			var inc Incident
			if e.flags&bucketLeafFlag != 0 || copied[string(e.key)] || json.Unmarshal(e.value, &inc) != nil ||
				inc.ID != string(e.key) || inc.Fingerprint == "" || inc.State == "" {
				continue
			}
			if b, ok := best[inc.ID]; !ok || inc.UpdatedAt.After(b.updated) {
				best[inc.ID] = found{inc.UpdatedAt, bytes.Clone(e.key), bytes.Clone(e.value)}
			}
		}
	}
	out := make([]record, 0, len(best))
	for _, id := range sortedKeys(best) {
		out = append(out, record{[]string{string(bucketIncidents)}, best[id].k, best[id].v})
	}
	return out
}
