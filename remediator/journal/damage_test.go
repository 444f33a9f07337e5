package journal

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeJournal writes a journal as the product does: n incidents admitted
// by webhooks and finished, a target's state and an upgrade. It returns the
// file and the incidents as read back.
func writeJournal(t *testing.T, n int) (string, map[string]*Incident) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var delivery []*Incident // webhooks of 25 alerts each
	for i := range n {
		inc := alert(fmt.Sprintf("fingerprint-%04d", i), "firing")
		inc.Labels = map[string]string{"alertname": "OpenClawGatewayDown", "instance": fmt.Sprintf("gw-%d:18789", i%7), "remediation": "restart"}
		inc.Annotations = map[string]string{"summary": strings.Repeat("the gateway does not answer its health probe ", 4)}
		if delivery = append(delivery, inc); len(delivery) == 25 || i == n-1 {
			if _, err := j.Admit(delivery, now.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
			delivery = nil
		}
	}
	err = j.Update(func(tx Tx) error {
		ts, err := tx.Target("gw-1")
		if err != nil {
			return err
		}
		ts.RecordVersion("2026.9.6", now)
		return tx.PutTarget(ts)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.PutUpgrade(&Upgrade{ID: "u1", To: "2026.9.6", State: UpgradeDone, StartedAt: now}); err != nil {
		t.Fatal(err)
	}
	all, err := j.List(Filter{})
	if err != nil || len(all) != n {
		t.Fatalf("wrote %d incidents, read %d: %v", n, len(all), err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Incident{}
	for _, inc := range all {
		byID[inc.ID] = inc
	}
	return path, byID
}

func copyFile(t *testing.T, src, dst string, mangle func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, mangle(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

func digest(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// openDamaged opens a damaged copy: it must fail with a *DamagedError that
// names the file and the way back, without a panic and without a write.
func openDamaged(t *testing.T, path string) *DamagedError {
	t.Helper()
	before := digest(t, path)
	j, err := Open(path, Options{LockTimeout: time.Second})
	if err == nil {
		j.Close()
		t.Fatalf("%s: opened a damaged journal", path)
	}
	var de *DamagedError
	if !errors.As(err, &de) {
		t.Fatalf("%s: %v, want a DamagedError", path, err)
	}
	for _, want := range []string{path, "journal check " + path, "journal salvage " + path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if digest(t, path) != before {
		t.Errorf("%s: Open wrote to a journal that failed its check", path)
	}
	if _, err := Check(path, time.Second); !errors.As(err, &de) {
		t.Errorf("Check: %v, want a DamagedError", err)
	}
	return de
}

func TestOpenRefusesATruncatedJournal(t *testing.T) {
	src, _ := writeJournal(t, 300)
	path := filepath.Join(t.TempDir(), "half.db")
	copyFile(t, src, path, func(b []byte) []byte { return b[:len(b)/2] })
	de := openDamaged(t, path)
	t.Log(de)
}

func TestOpenRefusesAnEmptyJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	de := openDamaged(t, path)
	if !strings.Contains(de.Error(), "empty") {
		t.Errorf("error does not say the file is empty: %v", de)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file changed: %v %v", fi, err)
	}
}

// flipBits flips n random bits of the data pages (not the meta pages,
// whose checksum bbolt verifies itself) of b, from a fixed seed.
func flipBits(seed uint64, n, pageSize int) func([]byte) []byte {
	return func(b []byte) []byte {
		r := rand.New(rand.NewPCG(seed, 0))
		for range n {
			i := 2*pageSize + r.IntN(len(b)-2*pageSize)
			b[i] ^= 1 << r.IntN(8)
		}
		return b
	}
}

// TestOpenSurvivesBitFlips opens copies with 64 random bits flipped, and
// salvages them. A flip in a record's JSON is damage too (the remediator
// could not recover its incidents); one in a free page is not, and such a
// copy opens: reading it must not panic either. Seed 29 damages a page
// that bbolt followed out of the file: a fault that killed the process at
// open, before Open checked.
func TestOpenSurvivesBitFlips(t *testing.T) {
	src, want := writeJournal(t, 300)
	for seed := uint64(24); seed < 36; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "flipped.db")
			copyFile(t, src, path, flipBits(seed, 64, os.Getpagesize()))
			before := digest(t, path)
			j, err := Open(path, Options{LockTimeout: time.Second})
			if err == nil {
				if seed == 29 {
					t.Error("opened the copy that bbolt faults on")
				}
				defer j.Close()
				_, _ = j.List(Filter{}) // an error is fine, a panic is not
				_, _ = j.Targets()
				_, _ = j.Upgrades()
				return
			}
			var de *DamagedError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), path) {
				t.Fatalf("%v, want a DamagedError naming the file", err)
			}
			if digest(t, path) != before {
				t.Fatal("Open wrote to a journal that failed its check")
			}
			rep, err := Salvage(path, filepath.Join(dir, "new.db"), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if digest(t, path) != before {
				t.Fatal("Salvage wrote to its source")
			}
			copied := rep.Copied["incidents"] + rep.Unlinked
			if copied > len(want) || copied < len(want)/2 {
				t.Errorf("salvage copied %d (%d unlinked) and skipped %d of %d incidents", copied, rep.Unlinked, rep.Skipped["incidents"], len(want))
			}
			if _, err := Check(filepath.Join(dir, "new.db"), time.Second); err != nil {
				t.Errorf("the salvaged journal fails its check: %v", err)
			}
		})
	}
}

// damagedLeaf returns a copy of src with one leaf page of the incidents
// bucket overwritten, and the ids of the incidents that were on it.
func damagedLeaf(t *testing.T, src, dst string) []string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := readPageFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	// The incidents' leaf pages, found by walking the tree by hand.
	var leaves []*page
	w := &walker{f: pf}
	var find func(id uint64)
	find = func(id uint64) {
		p, err := pf.page(id)
		if err != nil {
			t.Fatal(err)
		}
		es, bad := p.elems()
		if len(bad) > 0 {
			t.Fatal(bad)
		}
		if p.flags == flagBranch {
			for _, e := range es {
				find(e.child)
			}
			return
		}
		leaves = append(leaves, p)
	}
	w.bucket = func(path []string) {}
	rootPage, _ := pf.page(pf.meta.root)
	es, _ := rootPage.elems()
	for _, e := range es {
		if string(e.key) == "incidents" {
			find(ne.Uint64(e.value))
		}
	}
	if len(leaves) < 3 {
		t.Fatalf("%d leaf pages of incidents; the test needs more", len(leaves))
	}
	victim := leaves[len(leaves)/2]
	es, _ = victim.elems()
	var lost []string
	for _, e := range es {
		lost = append(lost, string(e.key))
	}
	copyFile(t, src, dst, func(b []byte) []byte {
		off := int(victim.id) * int(pf.ps)
		for i := range int(pf.ps) {
			b[off+i] = 0xA5
		}
		return b
	})
	return lost
}

func TestSalvageCopiesTheReadableIncidents(t *testing.T) {
	src, want := writeJournal(t, 300)
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.db")
	lost := damagedLeaf(t, src, damaged)
	openDamaged(t, damaged)

	before := digest(t, damaged)
	salvaged := filepath.Join(dir, "salvaged.db")
	rep, err := Salvage(damaged, salvaged, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, damaged) != before {
		t.Error("Salvage wrote to its source")
	}
	if len(rep.Problems) != 1 {
		t.Errorf("problems %q, want the one damaged page", rep.Problems)
	}
	if got := rep.Copied["incidents"]; got != len(want)-len(lost) {
		t.Errorf("copied %d incidents, want %d of %d (%d were on the damaged page)", got, len(want)-len(lost), len(want), len(lost))
	}
	if rep.Copied["targets"] != 1 || rep.Copied["upgrades"] != 1 {
		t.Errorf("copied %v", rep.Copied)
	}

	// Older versions of the lost incidents remain in free pages: salvage
	// finds some of them there.
	if rep.Unlinked == 0 || rep.Unlinked > len(lost) {
		t.Errorf("%d incidents from unlinked pages, want 1 to %d", rep.Unlinked, len(lost))
	}
	j, err := Open(salvaged, Options{})
	if err != nil {
		t.Fatalf("the salvaged journal does not open: %v", err)
	}
	defer j.Close()
	got, err := j.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want)-len(lost)+rep.Unlinked {
		t.Fatalf("salvaged journal lists %d incidents, want %d", len(got), len(want)-len(lost)+rep.Unlinked)
	}
	for _, inc := range got {
		w := want[inc.ID]
		if w == nil || w.Fingerprint != inc.Fingerprint || w.Labels["instance"] != inc.Labels["instance"] || w.Annotations["summary"] != inc.Annotations["summary"] {
			t.Errorf("incident %s differs: %+v, want %+v", inc.ID, inc, w)
		}
		if !slices.Contains(lost, inc.ID) && !w.ReceivedAt.Equal(inc.ReceivedAt) {
			t.Errorf("incident %s: received at %v, want %v", inc.ID, inc.ReceivedAt, w.ReceivedAt)
		}
	}
	if ts, err := j.Target("gw-1"); err != nil || len(ts.Versions) != 1 {
		t.Errorf("target: %+v %v", ts, err)
	}
	if u, err := j.Upgrade("u1"); err != nil || u.To != "2026.9.6" {
		t.Errorf("upgrade: %+v %v", u, err)
	}

	if _, err := Salvage(damaged, salvaged, time.Second); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("salvage over an existing file: %v", err)
	}
}

func TestSalvageOfATruncatedJournal(t *testing.T) {
	src, want := writeJournal(t, 300)
	dir := t.TempDir()
	half := filepath.Join(dir, "half.db")
	copyFile(t, src, half, func(b []byte) []byte { return b[:len(b)/2] })
	rep, err := Salvage(half, filepath.Join(dir, "new.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) == 0 || rep.Copied["incidents"] >= len(want) {
		t.Errorf("report %+v from a truncated journal", rep)
	}
	if _, err := Check(filepath.Join(dir, "new.db"), time.Second); err != nil {
		t.Errorf("the salvaged journal fails its check: %v", err)
	}
}

func TestCheckASoundJournal(t *testing.T) {
	path, want := writeJournal(t, 50)
	s, err := Check(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.Entries["incidents"] != len(want) || s.Entries["targets"] != 1 || s.Entries["upgrades"] != 1 {
		t.Errorf("entries %v", s.Entries)
	}
	rep, err := Salvage(path, path+".new", time.Second)
	if err != nil || len(rep.Problems) != 0 || rep.Copied["incidents"] != len(want) || len(rep.Skipped) != 0 {
		t.Errorf("salvage of a sound journal: %+v %v", rep, err)
	}
}

func TestSecondOpenIsRefusedWhileLocked(t *testing.T) {
	j, path := open(t)
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second open: %v, want ErrLocked naming the file", err)
	}
	if _, err := Salvage(path, path+".new", 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Errorf("salvage of an open journal: %v, want ErrLocked", err)
	}
	j.Close()
}
