package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a tmpfs needs root")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a tmpfs of 1 MiB on %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	j, err := Open(filepath.Join(dir, "journal.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	// Fill what is left of the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
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
