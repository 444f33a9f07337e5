package actions

import (
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

func writeLock(t *testing.T, dir, name string, l openclaw.Lock) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, l.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCleanupLocks(t *testing.T) {
	dir := t.TempDir()
	self, err := openclaw.DefaultProcFS.Identify(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// As the gateway's lock records it.
	if self.StartTime, err = openclaw.DefaultProcFS.LockStartTime(self.PID); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("/bin/true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := writeLock(t, dir, "gateway.live0001.lock", openclaw.Lock{PID: self.PID, StartTime: self.StartTime, Port: 1})
	stale := writeLock(t, dir, "gateway.dead0001.lock", openclaw.Lock{PID: dead.Process.Pid, StartTime: 12345, Port: 2})
	reused := writeLock(t, dir, "gateway.reus0001.lock", openclaw.Lock{PID: self.PID, StartTime: self.StartTime + 1, Port: 3})
	state := writeLock(t, dir, openclaw.StateLockName, openclaw.Lock{PID: dead.Process.Pid, StartTime: 12345, Port: 2})
	garbage := filepath.Join(dir, "gateway.garb0001.lock")
	os.WriteFile(garbage, []byte("not json"), 0o600)
	target := filepath.Join(t.TempDir(), "precious")
	os.WriteFile(target, []byte("x"), 0o600)
	link := filepath.Join(dir, "gateway.link0001.lock")
	os.Symlink(target, link)

	n, report, err := CleanupLocks(openclaw.DefaultProcFS, []string{dir, filepath.Join(dir, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("removed %d, want 3 (dead, reused, state)\n%s", n, report)
	}
	for _, p := range []string{live, garbage, link, target} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	for _, p := range []string{stale, reused, state} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
}

func touch(t *testing.T, path string, size int, age time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Repeat("x", size)), 0o640); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	os.Chtimes(path, when, when)
}

func TestCleanupLogs(t *testing.T) {
	root := t.TempDir()
	live := filepath.Join(root, "openclaw-2026-11-20.log")
	touch(t, live, 50_000, 0)
	prof := filepath.Join(root, "openclaw-work-2026-11-19.log") // another profile's live file
	touch(t, prof, 10_000, 3*time.Hour)
	for i := 1; i <= 5; i++ {
		touch(t, openclaw.RotatedLogName(live, i), 40_000, time.Duration(i)*time.Hour)
	}
	old := filepath.Join(root, "openclaw-2026-10-01.log")
	touch(t, old, 1000, 40*24*time.Hour)
	other := filepath.Join(root, "notes.txt")
	touch(t, other, 1000, 100*24*time.Hour)
	outside := filepath.Join(t.TempDir(), "openclaw-2026-01-01.log")
	touch(t, outside, 1000, 100*24*time.Hour)
	os.Symlink(outside, filepath.Join(root, "openclaw-2026-01-02.log"))
	outsideDir := t.TempDir() // reached through a symlinked directory: never followed
	outsideOld := filepath.Join(outsideDir, "openclaw-2026-01-01.1.log")
	touch(t, outsideOld, 1000, 100*24*time.Hour)
	os.Symlink(outsideDir, filepath.Join(root, "linked"))
	sub := filepath.Join(root, "sub")
	os.Mkdir(sub, 0o750)
	touch(t, filepath.Join(sub, "openclaw-2026-11-20.3.log"), 100, 2*time.Hour)

	rep, err := CleanupLogs([]string{root}, LogRetention{MaxAge: 30 * 24 * time.Hour, MaxTotalBytes: 64_000, Compress: true, Active: time.Minute}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{live, prof, other, outside, filepath.Join(root, "openclaw-2026-01-02.log"), outsideOld} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was touched: %v", p, err)
		}
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("the 40-day-old log is still there")
	}
	if b, _ := os.ReadFile(live); len(b) != 50_000 {
		t.Error("the active log changed")
	}
	var gz []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, _ error) error {
		if strings.HasSuffix(p, ".gz") {
			gz = append(gz, p)
			f, _ := os.Open(p)
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Errorf("%s: %v", p, err)
			} else if n, _ := io.Copy(io.Discard, zr); n != 40_000 && n != 100 {
				t.Errorf("%s holds %d bytes", p, n)
			}
			f.Close()
		}
		if strings.HasSuffix(p, ".log") && strings.Count(filepath.Base(p), ".") == 2 {
			t.Errorf("rotated %s not compressed", p)
		}
		return nil
	})
	if len(gz) == 0 || rep.Compressed != 6 {
		t.Errorf("compressed %d, .gz files %v", rep.Compressed, gz)
	}
	if !slices.Contains(rep.Protected, live) || !slices.Contains(rep.Protected, prof) {
		t.Errorf("protected %v", rep.Protected)
	}
	if rep.BytesNow > 64_000 && rep.BytesNow-50_000-10_000 > 0 && len(gz) > 0 {
		// only protected files may exceed the budget
		var gzBytes int64
		for _, p := range gz {
			fi, _ := os.Stat(p)
			gzBytes += fi.Size()
		}
		if gzBytes > 0 && rep.BytesNow > 64_000+gzBytes {
			t.Errorf("bytes now %d", rep.BytesNow)
		}
	}
	// A root that is a symlink is refused.
	link := filepath.Join(t.TempDir(), "logs")
	os.Symlink(root, link)
	if _, err := CleanupLogs([]string{link}, LogRetention{MaxAge: time.Hour}, time.Now()); err == nil {
		t.Error("symlinked root accepted")
	}
}

func TestRollbackVersion(t *testing.T) {
	re := regexp.MustCompile(config.DefaultVersionPattern)
	vs := []journal.Version{{Version: "2026.8.1"}, {Version: "2026.9.1"}, {Version: "2026.9.6"}}
	if v, err := RollbackVersion(vs, "2026.9.6", re); err != nil || v != "2026.9.1" {
		t.Fatalf("%q %v", v, err)
	}
	if _, err := RollbackVersion(vs[2:], "2026.9.6", re); err != ErrNoRollbackVersion {
		t.Fatalf("%v", err)
	}
	evil := []journal.Version{{Version: "2026.9.1; rm -rf /"}, {Version: "../../x"}}
	if _, err := RollbackVersion(evil, "", re); err == nil {
		t.Fatal("accepted a hostile version")
	}
	argv, err := RollbackArgv(config.DefaultRollbackCommand, "2026.9.1", re)
	if err != nil || strings.Join(argv, " ") != "openclaw update --tag 2026.9.1 --yes" {
		t.Fatalf("%q %v", argv, err)
	}
	for _, v := range []string{"2026.9.1 --force", "$(id)", "2026.9.1\x00", "latest", ""} {
		if _, err := RollbackArgv(config.DefaultRollbackCommand, v, re); !errors.Is(err, ErrRefused) {
			t.Errorf("version %q: %v", v, err)
		}
	}
	// A loose operator pattern still never lets a slash, NUL or an option
	// through: the rule of upgrades (CheckVersion) is the rollback's too.
	loose := regexp.MustCompile(`^.+$`)
	for v, want := range map[string]bool{"2026.9.1": true, "../../bin/sh": false, "v/1": false, "2026.9.1\x00": false,
		"--force": false, "-1": false, "2026.9.1\n--yes": false, strings.Repeat("9", MaxVersion+1): false} {
		if got := ValidVersion(v, loose); got != want {
			t.Errorf("ValidVersion(%q) = %v", v, got)
		}
	}
	if _, err := RollbackVersion([]journal.Version{{Version: "2026.9.1"}, {Version: "../x"}}, "", loose); err != nil {
		t.Errorf("the valid version was not chosen: %v", err)
	}
}

func TestExecEnv(t *testing.T) {
	inc := &journal.Incident{ID: "abc", Fingerprint: "fp", Status: "firing", Target: "default",
		Labels: map[string]string{
			"alertname":   "X",
			"ゲート":         "v1",
			"a-b":         "$(reboot); `id`",
			"a_b":         "second",
			"nul":         "a\x00b",
			"huge":        strings.Repeat("z", 10_000),
			"lower.Case!": "ok",
		}}
	env := ExecEnv(inc)
	get := func(k string) (string, bool) {
		for _, e := range env {
			if name, v, _ := strings.Cut(e, "="); name == k {
				return v, true
			}
		}
		return "", false
	}
	nameRe := regexp.MustCompile(`^[A-Z0-9_]+$`)
	for _, e := range env {
		name, v, _ := strings.Cut(e, "=")
		if !nameRe.MatchString(name) || strings.ContainsRune(v, 0) || len(v) > MaxEnvValue {
			t.Errorf("unsafe variable %q", e[:min(len(e), 80)])
		}
	}
	if v, _ := get("ALERT_LABEL_A_B"); v != "$(reboot); `id`" {
		t.Errorf("A_B = %q (first in sorted order wins, verbatim as data)", v)
	}
	if v, _ := get("ALERT_LABEL_NUL"); v != "ab" {
		t.Errorf("NUL = %q", v)
	}
	if _, ok := get("ALERT_LABEL____"); !ok {
		t.Errorf("non-ASCII name not mapped: %v", env)
	}
	if v, _ := get("ALERT_LABEL_LOWER_CASE_"); v != "ok" {
		t.Errorf("lower.Case! = %q", v)
	}
}

func TestTailLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := range 100_000 {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("\n")
	}
	os.WriteFile(p, []byte(b.String()), 0o600)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := TailLines(f, 3)
	if err != nil || strings.Count(out, "\n") != 3 || !strings.HasPrefix(out, "line") {
		t.Fatalf("%q %v", out, err)
	}
}
