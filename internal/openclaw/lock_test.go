package openclaw

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseRealLock(t *testing.T) {
	data, err := os.ReadFile("../../testdata/locks/gateway-2026.9.6.lock")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseLock(data)
	if err != nil {
		t.Fatal(err)
	}
	if l.PID != 2720 || l.StartTime != 8433 || l.Port != 28789 || l.OwnerID == "" || l.ConfigPath != "/tmp/ocx/home1/.openclaw/openclaw.json" {
		t.Errorf("parsed %+v", l)
	}
	// The real lock for that config path has the name LockFileName computes.
	if got := LockFileName(l.ConfigPath); got != "gateway.bbf63ce0.lock" {
		t.Errorf("LockFileName = %s, want gateway.bbf63ce0.lock", got)
	}
}

func TestParseLock(t *testing.T) {
	cases := []struct {
		name, data string
		wantErr    string
	}{
		{"compact", `{"pid":5,"startTime":9}`, ""},
		{"padded with spaces and tabs", "{\n  \"pid\": 5\n}\n\t\t \t  \n", ""},
		{"NUL padded", "{\"pid\":5}\x00\x00\x00", ""},
		{"empty", "", "decode lock JSON"},
		{"truncated", `{"pid":5,`, "decode lock JSON"},
		{"garbage after", `{"pid":5} {"pid":6}`, "unexpected data after lock JSON"},
		{"no pid", `{"port":18789}`, "no valid pid"},
		{"negative pid", `{"pid":-1}`, "no valid pid"},
	}
	for _, c := range cases {
		_, err := ParseLock([]byte(c.data))
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.wantErr)
		}
	}
}

func TestMarshalLikeTheGateway(t *testing.T) {
	in := Lock{PID: 42, OwnerID: "o", CronOwnerProjection: "dynamic-default-v1", CreatedAt: "2026-11-20T22:41:50.864Z", ConfigPath: "/c", StateDir: "/s", Port: 18789, StartTime: 7}
	b := in.Marshal()
	json, trailer, ok := bytes.Cut(b, []byte("\n}\n"))
	if !ok || !bytes.HasPrefix(json, []byte("{\n  \"pid\": 42,\n  \"ownerId\"")) {
		t.Fatalf("not indented like the gateway's: %q", b)
	}
	// 8 tabs, 128 bit characters, a newline: the real trailer is 138 bytes
	// including the newline that ends the JSON.
	if len(trailer) != 8+128+1 || !bytes.HasPrefix(trailer, bytes.Repeat([]byte{'\t'}, 8)) || strings.Trim(string(trailer), " \t\n") != "" {
		t.Errorf("trailer %q", trailer)
	}
	out, err := ParseLock(b)
	if err != nil || out != in {
		t.Errorf("round trip = %+v, %v", out, err)
	}
}

func TestFindLocksAndState(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(100, 1, "openclaw-gatewa", 'S', 5000)
	fp.Add(200, 1, "bash", 'S', 9999) // pid 200 was reused by another program
	state, tmp := t.TempDir(), t.TempDir()
	dirs := LockDirs(state, tmp, 1000)
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(dir, name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(dirs[0], "gateway.aaaaaaaa.lock", Lock{PID: 100, StartTime: 5000}.Marshal())
	write(dirs[0], StateLockName, Lock{PID: 100}.Marshal()) // no start time recorded
	write(dirs[0], "gateway.aaaaaaaa.lock.sqlite", nil)     // coordinator file, not a JSON lock
	write(dirs[1], "gateway.bbbbbbbb.lock", Lock{PID: 200, StartTime: 1234}.Marshal())
	write(dirs[1], "gateway.cccccccc.lock", Lock{PID: 300, StartTime: 1}.Marshal())
	write(dirs[1], "gateway.dddddddd.lock", []byte("{broken"))
	if err := os.Symlink("/etc/passwd", filepath.Join(dirs[1], "gateway.eeeeeeee.lock")); err != nil {
		t.Fatal(err)
	}
	locks, err := FindLocks(append(dirs, filepath.Join(state, "missing"))...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]LockState{
		"gateway.aaaaaaaa.lock": LockLive,
		StateLockName:           LockLive,
		"gateway.bbbbbbbb.lock": LockPIDReused,
		"gateway.cccccccc.lock": LockOwnerDead,
		"gateway.dddddddd.lock": "", // unparseable: never judged
	}
	if len(locks) != len(want) {
		t.Fatalf("found %d locks, want %d: %+v", len(locks), len(want), locks)
	}
	for _, lf := range locks {
		name := filepath.Base(lf.Path)
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected lock %s", name)
			continue
		}
		if w == "" {
			if lf.Err == nil {
				t.Errorf("%s: no parse error", name)
			}
			continue
		}
		got, err := lf.Lock.State(fp.fs())
		if err != nil || got != w {
			t.Errorf("%s: state %s %v, want %s", name, got, err, w)
		}
		if got.Stale() != (w != LockLive) {
			t.Errorf("%s: Stale() = %v", name, got.Stale())
		}
	}
}

func TestLockDirsFor(t *testing.T) {
	got := LockDirsFor("/home/oc/.openclaw", "/tmp", 1001, 0, 1001)
	want := []string{"/home/oc/.openclaw/tmp/openclaw-1001", "/tmp/openclaw-1001", "/home/oc/.openclaw/tmp/openclaw-0", "/tmp/openclaw-0"}
	if !slices.Equal(got, want) {
		t.Errorf("LockDirsFor = %q, want %q", got, want)
	}
}

// nobody is a uid other than the gateway's (the test's own) for files that
// another user planted.
const nobody = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test plants files owned by another uid")
	}
}

// TestLockTrust: a lock is trusted only when no user but the gateway's (or
// root) can have written it, as ownership and modes show; an untrusted one
// is still listed, with the reason.
func TestLockTrust(t *testing.T) {
	needRoot(t)
	me := os.Getuid()
	lock := Lock{PID: 100, StartTime: 5000, Port: 18789}.Marshal()
	for _, c := range []struct {
		name      string
		uid       int         // the uid the directory is named for
		dirMode   os.FileMode // with os.ModeSticky for a sticky one
		dirOwner  int
		fileMode  os.FileMode
		fileOwner int
		links     bool   // a second hard link to the file in the directory
		symlink   bool   // the directory is reached through a symlink
		why       string // "" when trusted
	}{
		{"private directory", me, 0o700, me, 0o600, me, false, false, ""},
		{"readable directory and file", me, 0o755, me, 0o644, me, false, false, ""},
		{"the gateway user's, root watching", 1000, 0o755, 1000, 0o644, 1000, false, false, ""},
		{"root's, in the gateway user's directory", 1000, 0o755, 1000, 0o644, 0, false, false, ""},
		{"the owner's lock in a sticky world-writable directory", me, 0o777 | os.ModeSticky, me, 0o644, me, false, false, ""},
		{"planted in a sticky world-writable directory", me, 0o777 | os.ModeSticky, me, 0o644, nobody, false, false, "owned by uid 65534"},
		{"world-writable directory without the sticky bit", me, 0o777, me, 0o644, me, false, false, "writable by other users (mode 0777) and not sticky"},
		{"group-writable directory", me, 0o775, me, 0o644, me, false, false, "writable by other users (mode 0775)"},
		{"directory created by another user", me, 0o755, nobody, 0o644, nobody, false, false, "directory"},
		{"another uid's directory name", 1000, 0o755, 1000, 0o644, 1001, false, false, "owned by uid 1001, not by the gateway's uid 1000"},
		{"file writable by others", me, 0o755, me, 0o666, me, false, false, "writable by other users (mode 0666)"},
		{"hard link in a sticky directory", me, 0o777 | os.ModeSticky, me, 0o644, me, true, false, "2 hard links"},
		{"directory through a symlink", me, 0o700, me, 0o600, me, false, true, "is a symlink"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "openclaw-"+strconv.Itoa(c.uid))
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "gateway.aaaaaaaa.lock")
			if err := os.WriteFile(path, lock, 0o600); err != nil {
				t.Fatal(err)
			}
			if c.links {
				if err := os.Link(path, filepath.Join(dir, "other-file")); err != nil {
					t.Fatal(err)
				}
			}
			for _, err := range []error{os.Chmod(path, c.fileMode), os.Chown(path, c.fileOwner, -1), os.Chown(dir, c.dirOwner, -1), os.Chmod(dir, c.dirMode)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			if c.symlink {
				link := filepath.Join(t.TempDir(), "openclaw-"+strconv.Itoa(c.uid))
				if err := os.Symlink(dir, link); err != nil {
					t.Fatal(err)
				}
				dir, path = link, filepath.Join(link, filepath.Base(path))
			}
			locks, err := FindLocks(dir)
			if err != nil || len(locks) != 1 {
				t.Fatalf("FindLocks = %+v, %v; want the lock, trusted or not", locks, err)
			}
			lf := locks[0]
			if lf.Err != nil || lf.Lock.PID != 100 || lf.Path != path || lf.Owner != c.fileOwner {
				t.Fatalf("lock %+v; want it read, owned by %d", lf, c.fileOwner)
			}
			if c.why == "" {
				if !lf.Trusted() {
					t.Errorf("not trusted: %v", lf.Untrusted)
				}
				return
			}
			if lf.Trusted() || !errors.Is(lf.Untrusted, ErrUntrustedLock) || !strings.Contains(lf.Untrusted.Error(), c.why) || !strings.Contains(lf.Untrusted.Error(), path) {
				t.Errorf("Untrusted = %v; want ErrUntrustedLock naming %s and %q", lf.Untrusted, path, c.why)
			}
		})
	}
}
