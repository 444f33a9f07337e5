package openclaw

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

	// The same through the directory's descriptor.
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"fifo", "zero"} {
		f, _, err := OpenRegularAt(d, name)
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), filepath.Join(dir, name)) {
			t.Errorf("OpenRegularAt(%s) = %v, want ErrNotRegular naming the path", name, err)
		}
		if f != nil {
			f.Close()
		}
	}
	for _, name := range []string{"", ".", "..", "../file", "/etc/passwd"} {
		if f, _, err := OpenRegularAt(d, name); err == nil {
			f.Close()
			t.Errorf("OpenRegularAt(%q) opened a file; only a plain name may be opened", name)
		}
	}
	f, fi, err = OpenRegularAt(d, "file")
	if err != nil || fi.Size() != 2 || f.Name() != file {
		t.Fatalf("OpenRegularAt(regular file) = %v, %v", fi, err)
	}
	f.Close()
	if _, _, err := OpenRegularAt(d, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

// TestOpenRegularAtStaysInTheOpenDirectory: a log directory renamed away and
// replaced by a symlink to another directory with a file of the same name
// after it was opened does not redirect the open: the file read is the one
// in the directory that was listed.
func TestOpenRegularAtStaysInTheOpenDirectory(t *testing.T) {
	base := t.TempDir()
	logs, secret := filepath.Join(base, "logs"), filepath.Join(base, "secret")
	for dir, content := range map[string]string{logs: "gateway line\n", secret: "root only\n"} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "openclaw-2026-01-02.log"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := os.Open(logs)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Rename(logs, logs+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, logs); err != nil {
		t.Fatal(err)
	}
	f, _, err := OpenRegularAt(d, "openclaw-2026-01-02.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil || string(data) != "gateway line\n" {
		t.Fatalf("read %q, %v; want the listed directory's log", data, err)
	}
}

// TestOpenNewestLog: the newest regular log is opened; a symlink (to a
// secret) and a FIFO named like newer logs are not candidates, and the
// opened file's own size is reported.
func TestOpenNewestLog(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "openclaw-2026-01-02.log")
	if err := os.WriteFile(live, []byte("gateway line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(live, old, old); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "openclaw-2026-01-03.log")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "openclaw-2026-01-04.log"), 0o600); err != nil {
		t.Fatal(err)
	}
	lf, f, err := OpenNewestLog("", filepath.Join(dir, "missing"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if lf.Path != live || lf.Size != int64(len("gateway line\n")) || lf.Date != "2026-01-02" {
		t.Errorf("OpenNewestLog = %+v, want %s", lf, live)
	}
	if _, _, err := OpenNewestLog("", t.TempDir()); !errors.Is(err, ErrNoLog) {
		t.Errorf("empty directory: %v, want ErrNoLog", err)
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
