package journal

import "testing"

// TestBatchEnded: only the final states end a batch; the CLI reports a
// batch once it ended.
func TestBatchEnded(t *testing.T) {
	for state, want := range map[string]bool{
		BatchPending: false, BatchUpdating: false, BatchObserving: false,
		BatchDone: true, BatchRolledBack: true, BatchRollbackFailed: true, BatchInterrupted: true,
	} {
		if got := (&UpgradeBatch{State: state}).Ended(); got != want {
			t.Errorf("batch %s: Ended() = %v, want %v", state, got, want)
		}
	}
}
