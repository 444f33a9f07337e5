package actions

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/prometheus/common/model"
)

// Issue 26 item 7: whoever can write in a log directory replaces files
// between the cleanup's scan and its act. Those files are left alone and
// named, every other file is still cleaned, and the action ends partial,
// not failed.
func TestCleanupLogsSkipsFilesChangedSinceTheScan(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	now := time.Now()
	old, recent := 40*24*time.Hour, 2*time.Hour
	touch(t, filepath.Join(root, "openclaw-2026-11-20.log"), 100, 0) // live
	deleted := []string{"openclaw-2026-10-01.1.log", "openclaw-2026-10-02.1.log", "openclaw-2026-10-03.1.log"}
	compressed := []string{"openclaw-2026-11-18.1.log", "openclaw-2026-11-19.1.log"}
	for _, n := range deleted {
		touch(t, filepath.Join(root, n), 100, old)
	}
	for _, n := range compressed {
		touch(t, filepath.Join(root, n), 100, recent)
	}
	sub := filepath.Join(root, "sub")
	if err := os.Mkdir(sub, 0o750); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(sub, "openclaw-2026-10-04.1.log"), 100, old)
	touch(t, filepath.Join(elsewhere, "openclaw-2026-10-04.1.log"), 100, old)

	// Replaced: one file to delete and one to compress get new content (the
	// kernel may give the new file the inode just freed); the directory sub
	// is swapped for a link elsewhere.
	replacedDel, replacedGz := filepath.Join(root, deleted[1]), filepath.Join(root, compressed[0])
	afterScan = func(string) {
		for _, p := range []string{replacedDel, replacedGz} {
			if err := os.Remove(p); err != nil {
				t.Error(err)
			}
			if err := os.WriteFile(p, []byte("written after the scan"), 0o644); err != nil {
				t.Error(err)
			}
		}
		if err := os.Rename(sub, sub+".away"); err != nil {
			t.Error(err)
		}
		if err := os.Symlink(elsewhere, sub); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { afterScan = nil })

	env := &Env{Target: &config.Target{Name: "main", LogDirs: []string{root},
		Logs: config.LogRetention{MaxAge: model.Duration(30 * 24 * time.Hour)}}, Now: now}
	res, err := cleanupLogsAction{}.Run(t.Context(), env)
	if !errors.Is(err, ErrPartial) {
		t.Fatalf("err = %v, want partial\n%s", err, res.Output)
	}
	subLog := filepath.Join(sub, "openclaw-2026-10-04.1.log")
	for _, p := range []string{replacedDel, replacedGz, subLog} {
		if !strings.Contains(err.Error(), p) || !strings.Contains(res.Output, p) {
			t.Errorf("%s not named: err %v\noutput %s", p, err, res.Output)
		}
	}
	if !strings.Contains(err.Error(), "3 file(s) changed since the scan") {
		t.Errorf("err = %v", err)
	}
	for _, p := range []string{replacedDel, replacedGz} {
		if got := mustRead(t, p); got != "written after the scan" {
			t.Errorf("%s now holds %q", p, got)
		}
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "openclaw-2026-10-04.1.log")); err != nil {
		t.Errorf("the file behind the swapped-in link: %v", err)
	}
	// The rest was cleaned.
	for _, n := range []string{deleted[0], deleted[2]} {
		if _, err := os.Lstat(filepath.Join(root, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not deleted: %v", n, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, compressed[1])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s not compressed: %v", compressed[1], err)
	}
	if _, err := os.Lstat(filepath.Join(root, compressed[1]+".gz")); err != nil {
		t.Errorf("%s.gz: %v", compressed[1], err)
	}
	if !strings.Contains(res.Output, "compressed 1 file(s), deleted 2 file(s)") {
		t.Errorf("output %s", res.Output)
	}

	// Without a change, the same cleanup ends without an error.
	afterScan = nil
	if _, err := (cleanupLogsAction{}).Run(t.Context(), env); err != nil {
		t.Errorf("second run: %v", err)
	}
	if entries, _ := os.ReadDir(root); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == compressed[0] }) {
		t.Errorf("%s still uncompressed after a clean run", compressed[0])
	}
}
