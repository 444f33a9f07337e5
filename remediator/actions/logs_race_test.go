package actions

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// outsideState is what the attack must not change: every name in the
// directory with its content, mode and modification time.
func outsideState(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %v %d %q\n", e.Name(), fi.Mode(), fi.ModTime().UnixNano(), data)
	}
	return b.String()
}

// TestCleanupLogsSymlinkSwapRace is the attack of issue 13: while a cleanup
// runs, a process that can write in the root renames ROOT/sub away and puts a
// symlink to an outside directory full of old rotated logs in its place, then
// swaps them back, over and over. No outside file may be deleted, compressed
// or created.
func TestCleanupLogsSymlinkSwapRace(t *testing.T) {
	iterations, files := 40, 60
	if testing.Short() {
		iterations = 10
	}
	now := time.Now()
	touched, done := 0, 0
	for it := range iterations {
		root, outside := t.TempDir(), t.TempDir()
		sub := filepath.Join(root, "sub")
		if err := os.Mkdir(sub, 0o750); err != nil {
			t.Fatal(err)
		}
		for i := range files {
			// Even files are past the age limit (deleted), odd ones are
			// rotated archives within it (compressed).
			age := 40 * 24 * time.Hour
			if i%2 == 1 {
				age = 2 * time.Hour
			}
			name := fmt.Sprintf("openclaw-2026-01-%02d.%d.log", 1+i%28, 1+i/28)
			touch(t, filepath.Join(sub, name), 100, age)
			touch(t, filepath.Join(outside, name), 100, age)
		}
		before := outsideState(t, outside)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			away := filepath.Join(root, "sub.away")
			for {
				select {
				case <-stop:
					return
				default:
				}
				if os.Rename(sub, away) != nil {
					continue
				}
				if os.Symlink(outside, sub) == nil {
					runtime.Gosched()
					os.Remove(sub)
				}
				os.Rename(away, sub)
				runtime.Gosched()
			}
		})
		rep, _ := CleanupLogs([]string{root}, LogRetention{MaxAge: 30 * 24 * time.Hour, Compress: true}, now)
		close(stop)
		wg.Wait()
		done += rep.Deleted + rep.Compressed

		if after := outsideState(t, outside); after != before {
			touched++
			t.Errorf("iteration %d: files outside the root changed:\n%s", it, diffLines(before, after))
		}
	}
	if touched > 0 {
		t.Errorf("%d of %d cleanups touched files outside the root", touched, iterations)
	}
	if done == 0 {
		t.Error("no cleanup deleted or compressed anything inside the root: the test proves nothing")
	}
}

// TestCleanupLogsFIFOSwapRace swaps FIFOs in for rotated logs while a
// cleanup runs: opening one for compression must neither block (no writer
// ever comes) nor read it, and the logs swapped back are still cleaned up.
func TestCleanupLogsFIFOSwapRace(t *testing.T) {
	root := t.TempDir()
	var names []string
	for i := range 40 {
		name := fmt.Sprintf("openclaw-2026-02-%02d.1.log", 1+i%28)
		if i >= 28 {
			name = fmt.Sprintf("openclaw-2026-02-%02d.2.log", 1+i%28)
		}
		touch(t, filepath.Join(root, name), 100, time.Hour)
		names = append(names, name)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := filepath.Join(root, names[i%len(names)])
			if os.Rename(p, p+".away") != nil {
				continue
			}
			if syscall.Mkfifo(p, 0o600) == nil {
				runtime.Gosched()
				os.Remove(p)
			}
			os.Rename(p+".away", p)
		}
	})
	_, _ = CleanupLogs([]string{root}, LogRetention{Compress: true}, time.Now())
	close(stop)
	wg.Wait()
	// Without the racer, what was left is compressed, and nothing else is
	// there but archives.
	if _, err := CleanupLogs([]string{root}, LogRetention{Compress: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".log.gz") {
			t.Errorf("left behind: %s (%v)", e.Name(), e.Type())
		}
	}
	// A FIFO swapped in between the check that the original is still the
	// scanned file and its removal is removed instead; the original comes
	// back and is archived again: a duplicate archive, never a loss.
	if len(entries) < len(names) {
		t.Errorf("%d files, want at least %d archives", len(entries), len(names))
	}
}

// diffLines lists the lines only one side has.
func diffLines(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		switch {
		case n > 0:
			out = append(out, "- "+l)
		case n < 0:
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("… %d more", len(out)-10))
	}
	return strings.Join(out, "\n")
}
