package journal

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func open(t *testing.T) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

func alert(fp string, status string) *Incident {
	start := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	return &Incident{ID: ID(fp, start), Fingerprint: fp, StartsAt: start, Status: status, State: StateReceived, Labels: map[string]string{"alertname": "X"}}
}

func TestIDIsStable(t *testing.T) {
	a := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	if ID("fp", a) != ID("fp", a.In(time.FixedZone("x", 3600))) {
		t.Error("id depends on the time zone")
	}
	if ID("fp", a) == ID("fp", a.Add(time.Millisecond)) || ID("fp", a) == ID("fq", a) {
		t.Error("ids collide")
	}
}

func TestAdmitConcurrentDuplicates(t *testing.T) {
	j, _ := open(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	news := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			adm, err := j.Admit([]*Incident{alert("a", "firing"), alert("b", "firing")}, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, a := range adm {
				if a.New {
					news++
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if news != 2 {
		t.Fatalf("%d new incidents from 20 identical deliveries of 2 alerts", news)
	}
	inc, err := j.Incident(alert("a", "firing").ID)
	if err != nil || inc.Deliveries != 20 {
		t.Fatalf("deliveries %v %v", inc, err)
	}
	// Resolved: marks a known incident, ignores an unknown one.
	adm, _ := j.Admit([]*Incident{alert("a", "resolved"), alert("zzz", "resolved")}, time.Now())
	if !adm[0].Known || adm[0].Incident.ResolvedAt == nil || adm[1].Known {
		t.Fatalf("%+v", adm)
	}
}

func TestRecoverAfterReopen(t *testing.T) {
	j, path := open(t)
	now := time.Now()
	var ids []string
	for i, st := range []string{StateRunning, StatePending, StateReceived, StateDone, StateQueued} {
		inc := alert(fmt.Sprint(i), "firing")
		inc.State = st
		if st == StateRunning {
			inc.Actions = []Action{{Attempt: 1, Action: "restart", Target: "t", StartedAt: now}}
		}
		ids = append(ids, inc.ID)
		if err := j.Update(func(tx Tx) error { return tx.PutIncident(inc) }); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	j2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	rec, err := j2.Recover(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Interrupted) != 1 || len(rec.Pending) != 1 || len(rec.Undecided) != 2 {
		t.Fatalf("%+v", rec)
	}
	inc, _ := j2.Incident(ids[0])
	if inc.State != StateDone || inc.Actions[0].Result != ResultInterrupted || inc.Actions[0].EndedAt == nil {
		t.Fatalf("running incident after recovery: %+v", inc)
	}
	// Recovering again finds nothing new to interrupt.
	if rec, _ := j2.Recover(now); len(rec.Interrupted) != 0 {
		t.Fatal("interrupted twice")
	}
}

func TestPruneKeepsUnfinished(t *testing.T) {
	j, _ := open(t)
	old := time.Now().Add(-30 * 24 * time.Hour)
	for i := range 50 {
		inc := alert(fmt.Sprint(i), "firing")
		inc.State, inc.UpdatedAt = StateDone, old
		if i%10 == 0 {
			inc.State = StatePending
		}
		if err := j.Update(func(tx Tx) error { return tx.PutIncident(inc) }); err != nil {
			t.Fatal(err)
		}
	}
	n, err := j.Prune(time.Now().Add(-7 * 24 * time.Hour))
	if err != nil || n != 45 {
		t.Fatalf("pruned %d (%v), want 45", n, err)
	}
	left, _ := j.List(Filter{})
	if len(left) != 5 {
		t.Fatalf("%d left", len(left))
	}
	if l, _ := j.List(Filter{State: StatePending, Limit: 2}); len(l) != 2 {
		t.Fatalf("filtered list %d", len(l))
	}
}

func TestTargetVersions(t *testing.T) {
	var ts Target
	at := time.Now()
	for i := range 15 {
		ts.RecordVersion(fmt.Sprintf("2026.9.%d", i), at)
	}
	ts.RecordVersion("2026.9.7", at)
	if len(ts.Versions) != KeepVersions || ts.Versions[len(ts.Versions)-1].Version != "2026.9.7" {
		t.Fatalf("%+v", ts.Versions)
	}
}

// Paging walks every matching incident exactly once, in list order, past
// any size limit, with ties on the received time broken by id, and a page
// boundary survives incidents added in front of it.
func TestListPages(t *testing.T) {
	j, _ := open(t)
	base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	put := func(ids ...int) {
		err := j.Update(func(tx Tx) error {
			for _, i := range ids {
				inc := alert(fmt.Sprint("fp", i), "firing")
				inc.ReceivedAt = base.Add(time.Duration(i/3) * time.Second) // three per instant
				inc.State = StateDone
				if i%4 == 0 {
					inc.State = StatePending
				}
				if err := tx.PutIncident(inc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var ids []int
	for i := range 2500 {
		ids = append(ids, i)
	}
	put(ids...)
	for _, state := range []string{"", StateDone} {
		all, _ := j.List(Filter{State: state})
		var walked []*Incident
		f := Filter{State: state, Limit: 1000}
		for pages := 0; ; pages++ {
			p, err := j.ListPage(f)
			if err != nil {
				t.Fatal(err)
			}
			walked = append(walked, p.Incidents...)
			if pages == 0 {
				put(9999) // received last: in front of the first page, not in the rest
			}
			if p.Next == "" {
				break
			}
			f.After = p.Next
		}
		if len(walked) != len(all) {
			t.Fatalf("state %q: %d walked, %d listed", state, len(walked), len(all))
		}
		for i := range all {
			if walked[i].ID != all[i].ID {
				t.Fatalf("state %q: page order differs at %d: %s, want %s", state, i, walked[i].ID, all[i].ID)
			}
		}
	}
	if _, err := j.ListPage(Filter{After: "garbage"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

// TestPruneKeepsWhatChangedAfterTheScan: Prune finds old finished incidents
// without the writer lock, then deletes them; one updated in between (a new
// delivery) is kept.
func TestPruneKeepsWhatChangedAfterTheScan(t *testing.T) {
	j, _ := open(t)
	old := time.Now().Add(-30 * 24 * time.Hour)
	for _, fp := range []string{"a", "b"} {
		inc := alert(fp, "firing")
		inc.State, inc.UpdatedAt = StateDone, old
		if err := j.Update(func(tx Tx) error { return tx.PutIncident(inc) }); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { afterPruneScan = func() {} })
	afterPruneScan = func() {
		if _, err := j.Admit([]*Incident{alert("b", "firing")}, time.Now()); err != nil {
			t.Error(err)
		}
	}
	n, err := j.Prune(time.Now().Add(-7 * 24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	if _, err := j.Incident(alert("a", "firing").ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("incident a: %v, want pruned", err)
	}
	if inc, err := j.Incident(alert("b", "firing").ID); err != nil || inc.Deliveries != 1 {
		t.Errorf("incident b, delivered again after the scan: %+v, %v; want kept", inc, err)
	}
}

// The index of pending incidents follows their state in the same
// transaction, keeps the time each began waiting through later deliveries,
// and is rebuilt by Recover.
func TestPendingIndex(t *testing.T) {
	j, err := Open(filepath.Join(t.TempDir(), "j.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	a := &Incident{ID: "a", Status: "firing", State: StateReceived}
	if _, err := j.Admit([]*Incident{a, {ID: "b", Status: "firing", State: StateReceived}}, t0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := j.Update(func(tx Tx) error {
			inc, err := tx.Incident(id)
			if err != nil {
				return err
			}
			if err := inc.Wait(t0.Add(time.Hour), t0); err != nil {
				return err
			}
			return tx.PutIncident(inc)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.Admit([]*Incident{{ID: "a", Status: "firing"}}, t0.Add(time.Minute)); err != nil { // a repeated delivery
		t.Fatal(err)
	}
	if err := j.Update(func(tx Tx) error {
		inc, err := tx.Incident("b")
		if err != nil {
			return err
		}
		if err := inc.Approve(t0.Add(2 * time.Minute)); err != nil {
			return err
		}
		return tx.PutIncident(inc)
	}); err != nil {
		t.Fatal(err)
	}
	want := []PendingIncident{{ID: "a", Since: t0}}
	if got, err := j.Pending(); err != nil || !slices.Equal(got, want) {
		t.Fatalf("pending %+v %v, want %+v", got, err, want)
	}
	if err := j.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).Put([]byte("gone"), []byte(t0.Format(time.RFC3339Nano)))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Recover(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := j.Pending(); err != nil || !slices.Equal(got, want) {
		t.Fatalf("pending after Recover %+v %v, want %+v", got, err, want)
	}
}
