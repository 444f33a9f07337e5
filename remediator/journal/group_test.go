package journal

import (
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestWritersArrivingDuringACommitShareTheNext: while one writer's commit
// runs, the writers that arrive wait for it and then commit together, in
// one transaction, without a timer.
func TestWritersArrivingDuringACommitShareTheNext(t *testing.T) {
	j, _ := open(t)
	const waiting = 30
	release := make(chan struct{})
	first := make(chan int, 1)
	go func() {
		_ = j.batch(func(tx *bolt.Tx) error {
			first <- tx.ID()
			<-release // the commit is running
			return nil
		})
	}()
	firstTx := <-first

	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		txs = map[int]int{}
	)
	for range waiting {
		wg.Go(func() {
			err := j.batch(func(tx *bolt.Tx) error {
				mu.Lock()
				txs[tx.ID()]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	deadline := time.Now().Add(time.Minute)
	for {
		j.group.mu.Lock()
		n := len(j.group.pending)
		j.group.mu.Unlock()
		if n == waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writers pending, want %d", n, waiting)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if len(txs) != 1 || txs[firstTx] != 0 {
		t.Errorf("the %d writers that waited ran in transactions %v (the first writer's was %d), want one shared one", waiting, txs, firstTx)
	}
}
