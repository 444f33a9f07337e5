package actions

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// hangDeadline is how long the evidence's log tail may take before the test
// calls it hung; it detects "never returns", it is not a performance bound.
const hangDeadline = time.Minute

// maxTails bounds the tails a race test takes while it waits for the racer
// to hit the window between listing and open a few times.
const maxTails = 50_000

// racer runs step until the test ends or stop is called.
func racer(t *testing.T, step func() error) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	stop = sync.OnceFunc(func() { close(done); wg.Wait() })
	t.Cleanup(stop)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := step(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	return stop
}

// tailWhileRacing takes the evidence's log tail until judge says enough or
// maxTails were taken, in a goroutine, and fails the test if one of them
// never returns.
func tailWhileRacing(t *testing.T, e Evidence, judge func(out string) (enough bool)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range maxTails {
			if judge(e.logTail()) {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(hangDeadline):
		t.Fatalf("the evidence's log tail did not return within %s", hangDeadline)
	}
}

// TestEvidenceNeverFollowsASymlinkSwappedForTheNewestLog is the attack of
// issue 26: the remediator runs as root and the console serves its
// evidence, while the gateway's user renames a symlink to a root-only file
// over the newest log between the remediator's listing and its open, and
// puts the real log back, over and over. The evidence may refuse the link;
// it may never contain the link target.
func TestEvidenceNeverFollowsASymlinkSwappedForTheNewestLog(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "openclaw-2026-01-02.log")
	hold := filepath.Join(dir, "hold") // a second name of the real log, to put it back
	if err := os.WriteFile(live, []byte("gateway line\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(live, hold); err != nil {
		t.Fatal(err)
	}
	// Root-only and someone else's: what the test asserts is that the link
	// is not followed, since as root the test could read it either way.
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte("ROOT-ONLY-SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		if err := os.Chown(secret, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	stop := racer(t, func() error {
		for _, step := range []func() error{
			func() error { return os.Symlink(secret, link) },
			func() error { return os.Rename(link, live) }, // the link is the newest log
			func() error { return os.Rename(hold, live) }, // the real one is back
			func() error { return os.Link(live, hold) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})

	var leaked, refused, read int
	tailWhileRacing(t, Evidence{LogDirs: []string{dir}, LogLines: 10}, func(out string) bool {
		switch {
		case strings.Contains(out, "ROOT-ONLY-SECRET"):
			leaked++
		case strings.Contains(out, "is a symlink") && strings.Contains(out, openclaw.ErrNotRegular.Error()):
			refused++
		case strings.Contains(out, "gateway line"):
			read++
		}
		return leaked+refused >= 20
	})
	stop()
	t.Logf("%d tails refused the swapped symlink, %d read the real log", refused, read)
	if leaked > 0 {
		t.Errorf("%d evidence log tails hold the symlink target's content", leaked)
	}
	if refused+leaked == 0 {
		t.Errorf("no tail met the symlink in %d tries: the test proves nothing", maxTails)
	}
	if read == 0 {
		t.Error("no tail read the real log")
	}
}

// TestEvidenceRefusesAFIFOSwappedForTheNewestLog: a FIFO renamed over the
// newest log between listing and open is refused on the descriptor; a plain
// open waited for a writer that never comes, and the restart behind it with.
func TestEvidenceRefusesAFIFOSwappedForTheNewestLog(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "openclaw-2026-01-02.log")
	if err := os.WriteFile(live, []byte("gateway line\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo") // a second name of the FIFO
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Should a tail block in spite of all, open the FIFO for writing so
	// that it returns.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	tmp := filepath.Join(dir, "tmp")
	var swaps atomic.Int64
	stop := racer(t, func() error {
		for _, step := range []func() error{
			func() error { return os.Link(fifo, tmp) },
			func() error { return os.Rename(tmp, live) }, // the FIFO is the newest log
			func() error { return os.WriteFile(tmp, []byte("gateway line\n"), 0o640) },
			func() error { return os.Rename(tmp, live) }, // a log again
		} {
			if err := step(); err != nil {
				return err
			}
		}
		swaps.Add(1)
		return nil
	})

	var refused, read int
	tailWhileRacing(t, Evidence{LogDirs: []string{dir}, LogLines: 10}, func(out string) bool {
		switch {
		case strings.Contains(out, "is a FIFO") && strings.Contains(out, openclaw.ErrNotRegular.Error()):
			refused++
		case strings.Contains(out, "gateway line"):
			read++
		}
		return refused >= 20
	})
	stop()
	t.Logf("%d swaps; %d tails refused the FIFO, %d read the log", swaps.Load(), refused, read)
	if refused == 0 {
		t.Errorf("no tail met the FIFO in %d tries: the test proves nothing", maxTails)
	}
	if read == 0 {
		t.Error("no tail read the real log")
	}
}
