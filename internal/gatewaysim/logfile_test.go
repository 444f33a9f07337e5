package gatewaysim

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

func TestLogFileRotatesKeepingFiveArchives(t *testing.T) {
	dir := t.TempDir()
	w, err := openLogFile(dir, "work", 2048)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 200 { // about 80 KB: many more rotations than archives
		if err := w.Log(openclaw.LevelInfo, "gateway", "a line of some length to fill the file quickly"); err != nil {
			t.Fatal(err)
		}
	}
	live, err := openclaw.NewestLog("work", dir)
	if err != nil {
		t.Fatal(err)
	}
	if live.Profile != "work" {
		t.Errorf("profile = %q", live.Profile)
	}
	for i := 1; i <= logArchives; i++ {
		fi, err := os.Stat(openclaw.RotatedLogName(live.Path, i))
		if err != nil {
			t.Fatalf("archive .%d: %v", i, err)
		}
		if fi.Size() > 2048 {
			t.Errorf("archive .%d is %d bytes, over the rotation size", i, fi.Size())
		}
	}
	if _, err := os.Stat(openclaw.RotatedLogName(live.Path, 6)); !os.IsNotExist(err) {
		t.Errorf("archive .6 exists (err %v), want at most 5", err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(matches) != 6 {
		t.Errorf("files = %v, want the live file and 5 archives", matches)
	}
	// Every line of every file decodes.
	for _, m := range matches {
		f, err := os.Open(m)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r openclaw.Record
			if err := openclaw.DecodeRecord(sc.Bytes(), &r); err != nil {
				t.Errorf("%s: %v", m, err)
			}
		}
		f.Close()
	}
}
