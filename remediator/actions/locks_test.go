package actions

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// TestCleanupLocksKeepsUntrusted: a lock that another user may have written
// is not the gateway's: cleanup_locks reports it and never removes it, even
// when it names a dead pid.
func TestCleanupLocksKeepsUntrusted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test plants a lock owned by another uid")
	}
	dead := exec.Command("/bin/true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := openclaw.Lock{PID: dead.Process.Pid, StartTime: 12345}
	sticky := filepath.Join(t.TempDir(), "sticky")
	planted := writeLock(t, sticky, "gateway.plnt0001.lock", stale)
	own := writeLock(t, sticky, "gateway.own00001.lock", stale)
	open := filepath.Join(t.TempDir(), "open")
	exposed := writeLock(t, open, "gateway.expo0001.lock", stale)
	for _, err := range []error{os.Chown(planted, 65534, -1), os.Chmod(sticky, 0o777|os.ModeSticky), os.Chmod(open, 0o777)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	n, report, err := CleanupLocks(openclaw.DefaultProcFS, []string{sticky, open})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("removed %d, want 1 (the owner's own lock in the sticky directory)\n%s", n, report)
	}
	for _, p := range []string{planted, exposed} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if _, err := os.Lstat(own); err == nil {
		t.Errorf("%s is still there", own)
	}
	for _, want := range []string{"kept lock " + planted + ": owned by uid 65534", "kept lock " + exposed + ": directory " + open + " is writable by other users"} {
		if !strings.Contains(report, want) {
			t.Errorf("report does not say %q:\n%s", want, report)
		}
	}
}
