package openclaw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/openclaw/proctest"
)

// newFakeProc is a proc tree in a temporary directory.
func newFakeProc(t *testing.T) fakeProc { return fakeProc{proctest.New(t)} }

type fakeProc struct{ *proctest.Tree }

func (f fakeProc) fs() ProcFS { return ProcFS{Root: f.Root} }

func TestStatParsesAwkwardComm(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(42, 1, "a) (b c", 'S', 12345)
	st, err := fp.fs().Stat(42)
	if err != nil {
		t.Fatal(err)
	}
	if st.Comm != "a) (b c" || st.PPID != 1 || st.StartTime != 12345 || st.State != 'S' {
		t.Fatalf("got %+v", st)
	}
}

func TestStartTime(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(10, 1, "node", 'S', 700)
	fp.Add(11, 1, "node", 'Z', 800)
	cases := []struct {
		pid     int
		want    uint64
		wantErr error
	}{
		{10, 700, nil},
		{11, 0, ErrNoProcess}, // zombie counts as gone
		{12, 0, ErrNoProcess}, // no such pid
	}
	for _, c := range cases {
		got, err := fp.fs().StartTime(c.pid)
		if !errors.Is(err, c.wantErr) || got != c.want {
			t.Errorf("StartTime(%d) = %d, %v; want %d, %v", c.pid, got, err, c.want, c.wantErr)
		}
	}
}

func TestRealProcSelf(t *testing.T) {
	me, err := DefaultProcFS.Identify(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if me.StartTime == 0 {
		t.Fatal("start time of this process is 0")
	}
	n, err := DefaultProcFS.OpenFDs(os.Getpid())
	if err != nil || n < 3 {
		t.Fatalf("OpenFDs = %d, %v", n, err)
	}
	rss, err := DefaultProcFS.RSSBytes(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("RSSBytes = %d, %v", rss, err)
	}
	argv, err := DefaultProcFS.Cmdline(os.Getpid())
	if err != nil || len(argv) == 0 || !strings.HasSuffix(argv[0], ".test") {
		t.Fatalf("Cmdline = %q, %v", argv, err)
	}
}

func TestCmdlineTrimsTitlePadding(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(5, 1, "openclaw-gatewa", 'S', 1, "openclaw-gateway"+strings.Repeat(" ", 40))
	argv, err := fp.fs().Cmdline(5)
	if err != nil || len(argv) != 1 || argv[0] != "openclaw-gateway" {
		t.Fatalf("Cmdline = %q, %v", argv, err)
	}
}

func TestChildrenFallsBackToParentScan(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(100, 1, "openclaw-gatewa", 'S', 1)
	fp.Add(101, 100, "node", 'S', 2)
	fp.Add(102, 1, "bash", 'S', 3)
	fp.Add(103, 100, "node", 'S', 4)
	kids, err := fp.fs().Children(100)
	if err != nil || fmt.Sprint(kids) != "[101 103]" {
		t.Fatalf("Children = %v, %v", kids, err)
	}
	// With the kernel's children lists present, those are used.
	fp.Write(filepath.Join("100", "task", "100", "children"), "103 ")
	kids, err = fp.fs().Children(100)
	if err != nil || fmt.Sprint(kids) != "[103]" {
		t.Fatalf("Children with task lists = %v, %v", kids, err)
	}
}

func TestStateDirFromEnvironment(t *testing.T) {
	fp := newFakeProc(t)
	cases := []struct {
		env     []string
		want    string
		wantErr bool
	}{
		{env: []string{"PATH=/bin", "OPENCLAW_STATE_DIR=/srv/claw/./state/", "HOME=/home/a"}, want: "/srv/claw/state"},
		{env: []string{"HOME=/home/a", "OPENCLAW_STATE_DIR="}, want: "/home/a/.openclaw"},
		{env: []string{"PATH=/bin"}, wantErr: true},
	}
	for i, c := range cases {
		fp.Add(100+i, 1, "openclaw-gatewa", 'S', 1)
		fp.Environ(100+i, c.env...)
		got, err := fp.fs().StateDir(100 + i)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("%q: StateDir = %q, %v; want %q (error %v)", c.env, got, err, c.want, c.wantErr)
		}
	}
	if _, err := fp.fs().StateDir(999); !errors.Is(err, ErrNoProcess) {
		t.Errorf("a gone process: %v, want ErrNoProcess", err)
	}
}

// TestListenerNotVisibleIsNotNotFound: a socket listening on the port whose
// owner's fds cannot be read is a gateway we cannot see, never an absent
// one: an exporter running as another user must fail, not say "down".
func TestListenerNotVisibleIsNotNotFound(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(300, 1, "openclaw-gatewa", 'S', 700, "openclaw-gateway")
	fp.Listen(300, 18789, 4242)
	// The owner's fd entries unreadable, as /proc/PID/fd of another user's process is.
	if err := os.Remove(filepath.Join(fp.Root, "300", "fd", "7")); err != nil {
		t.Fatal(err)
	}
	_, err := fp.fs().ListenerPID(18789)
	if !errors.Is(err, ErrNotVisible) || errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("ListenerPID = %v, want ErrNotVisible (a permission error), not ErrNotFound", err)
	}
	// Neither the lock nor the (skipped) title finds it: still not "not found".
	_, _, err = Discoverer{Procs: fp.fs(), Port: 18789, LockDirs: []string{t.TempDir()}, SkipTitle: true}.Find(Process{})
	if !errors.Is(err, ErrNotVisible) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Find = %v, want ErrNotVisible and not ErrNotFound", err)
	}
}

func TestUID(t *testing.T) {
	fp := newFakeProc(t)
	fp.Add(10, 1, "node", 'S', 700)
	fp.Write("10/status", "Name:\tnode\nUmask:\t0022\nUid:\t1001\t1001\t1001\t1001\nGid:\t100\t100\t100\t100\n")
	fp.Add(11, 1, "kthread", 'S', 800)
	fp.Write("11/status", "Name:\tkthread\n") // no Uid line
	if uid, err := fp.fs().UID(10); err != nil || uid != 1001 {
		t.Errorf("UID(10) = %d, %v; want 1001", uid, err)
	}
	if _, err := fp.fs().UID(11); err == nil {
		t.Error("UID of a status without Uid: no error")
	}
	if _, err := fp.fs().UID(12); !errors.Is(err, ErrNoProcess) {
		t.Errorf("UID of a missing pid: %v, want ErrNoProcess", err)
	}
	if uid, err := DefaultProcFS.UID(os.Getpid()); err != nil || uid != os.Getuid() {
		t.Errorf("UID(self) = %d, %v; want %d", uid, err, os.Getuid())
	}
}
