package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/fulldisk"
)

func TestCommitErrorUntilACommitSucceeds(t *testing.T) {
	j, path := open(t)
	if err := j.CommitError(); err != nil {
		t.Fatal(err)
	}
	// A transaction whose function fails is the caller's error, not the
	// journal's.
	if err := j.Update(func(tx Tx) error { _, err := tx.Incident("nope"); return err }); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := j.CommitError(); err != nil {
		t.Fatalf("a refused transaction counts as a failed commit: %v", err)
	}

	diskFull := errors.New("no space left on device")
	beforeCommit = func() error { return diskFull }
	_, admitErr := j.Admit([]*Incident{alert("a", "firing")}, time.Now())
	pruneErr := j.Update(func(Tx) error { return nil })
	beforeCommit = func() error { return nil }
	if !errors.Is(admitErr, diskFull) || !errors.Is(pruneErr, diskFull) {
		t.Fatalf("admit %v, update %v", admitErr, pruneErr)
	}
	err := j.CommitError()
	if !errors.Is(err, diskFull) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "2 failed commit") {
		t.Fatalf("CommitError %v, want the last failure, the file and the count", err)
	}
	if err := j.ProbeCommit(); !errors.Is(err, diskFull) {
		t.Fatalf("a probe right after a failed commit: %v, want the failure kept", err)
	}
	defer func(quiet time.Duration) { probeQuiet = quiet }(probeQuiet)
	probeQuiet = 0
	if err := j.ProbeCommit(); err != nil {
		t.Fatal(err)
	}
	if err := j.CommitError(); err != nil {
		t.Fatalf("after a commit succeeded: %v", err)
	}
}

// TestCommitErrorOnAFullDisk fills a small tmpfs under a journal until
// webhooks cannot be admitted, then frees it.
func TestCommitErrorOnAFullDisk(t *testing.T) {
	dir := fulldisk.Mount(t, "1m")
	j, err := Open(filepath.Join(dir, "journal.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	filler := fulldisk.Fill(t, dir)
	// New incidents need new pages: some delivery fails.
	var admitErr error
	for i := 0; i < 1000 && admitErr == nil; i++ {
		inc := alert(fmt.Sprint("full-", i), "firing")
		inc.Annotations = map[string]string{"summary": strings.Repeat("x", 2000)}
		_, admitErr = j.Admit([]*Incident{inc}, time.Now())
	}
	if admitErr == nil {
		t.Fatal("1000 deliveries of 2 kB fitted on a full disk")
	}
	if err := j.CommitError(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("CommitError %v after %v", err, admitErr)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Admit([]*Incident{alert("after", "firing")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := j.CommitError(); err != nil {
		t.Fatalf("after the disk was freed: %v", err)
	}
	if _, err := Check(j.Path(), time.Second); !errors.Is(err, ErrLocked) {
		t.Errorf("Check of an open journal: %v, want ErrLocked", err)
	}
}
