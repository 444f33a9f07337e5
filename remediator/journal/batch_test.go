package journal

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestBatchSharedWithAdmissionsAndRerun: runner writes through Batch
// share transactions with webhook admissions; when a peer's function fails,
// bbolt runs the others again, and a function that reads what it changes
// from the transaction counts each write once. Everything Batch returned
// for is on disk after a reopen.
func TestBatchSharedWithAdmissionsAndRerun(t *testing.T) {
	j, path := open(t)
	const writers = 40
	errPeer := errors.New("peer fails")
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		runs  int
		fails int
	)
	for i := range writers {
		wg.Go(func() {
			err := j.Batch(func(tx Tx) error {
				mu.Lock()
				runs++
				mu.Unlock()
				if i%10 == 0 {
					return errPeer
				}
				ts, err := tx.Target("t")
				if err != nil {
					return err
				}
				ts.Failures++
				return tx.PutTarget(ts)
			})
			if errors.Is(err, errPeer) {
				mu.Lock()
				fails++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := j.Admit([]*Incident{alert(string(rune('a'+i)), "firing")}, time.Now()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if fails != writers/10 {
		t.Errorf("%d functions failed, want %d", fails, writers/10)
	}
	want := writers - writers/10
	if runs <= writers {
		t.Errorf("%d runs of %d functions: a failed one is run again alone, so more were expected", runs, writers)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	ts, err := j2.Target("t")
	if err != nil {
		t.Fatal(err)
	}
	if ts.Failures != want {
		t.Errorf("after %d runs of %d functions: counter %d, want %d (each successful function once)", runs, writers, ts.Failures, want)
	}
	incs, err := j2.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != writers {
		t.Errorf("%d incidents admitted alongside, want %d", len(incs), writers)
	}
}
