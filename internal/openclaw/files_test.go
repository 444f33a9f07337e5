package openclaw

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenRegularRefusesWhatIsNotAFile: a FIFO without a writer (a plain
// open blocks), a symlink to /dev/zero (a plain read never ends), a device
// and a directory are refused without blocking; a regular file opens.
func TestOpenRegularRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link, "/dev/zero", dir} {
		f, _, err := OpenRegular(path)
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("OpenRegular(%s) = %v, want ErrNotRegular", path, err)
		}
		if f != nil {
			f.Close()
		}
	}
	f, fi, err := OpenRegular(file)
	if err != nil || fi.Size() != 2 {
		t.Fatalf("OpenRegular(regular file) = %v, %v", fi, err)
	}
	f.Close()
	if _, _, err := OpenRegular(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

// TestLogAndLockDirReplacedByFIFO: a FIFO where the log or lock directory
// should be is an error, not a listing that blocks for a writer.
func TestLogAndLockDirReplacedByFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "openclaw")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewestLog("", fifo); err == nil || errors.Is(err, ErrNoLog) {
		t.Errorf("NewestLog in a FIFO: %v, want an error that is not ErrNoLog", err)
	}
	if _, err := FindLocks(fifo); err == nil {
		t.Error("FindLocks in a FIFO: no error")
	}
}
