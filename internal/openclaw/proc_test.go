package openclaw

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeProc is a proc tree in a temporary directory.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T) *fakeProc {
	return &fakeProc{t: t, root: t.TempDir()}
}

func (f *fakeProc) fs() ProcFS { return ProcFS{Root: f.root} }

// add writes /proc/PID/{stat,cmdline,status} for a process.
func (f *fakeProc) add(pid, ppid int, comm string, state byte, start uint64, argv ...string) {
	f.t.Helper()
	dir := filepath.Join(f.root, strconv.Itoa(pid))
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		f.t.Fatal(err)
	}
	// A real stat line: 52 fields, starttime is field 22.
	rest := make([]string, 49)
	for i := range rest {
		rest[i] = "0"
	}
	rest[0] = strconv.Itoa(ppid)             // field 4
	rest[18] = strconv.FormatUint(start, 10) // field 22
	stat := fmt.Sprintf("%d (%s) %c %s\n", pid, comm, state, strings.Join(rest, " "))
	f.write(filepath.Join(dir, "stat"), stat)
	f.write(filepath.Join(dir, "cmdline"), strings.Join(argv, "\x00")+"\x00")
	f.write(filepath.Join(dir, "status"), "Name:\t"+comm+"\nVmRSS:\t  2048 kB\n")
}

func (f *fakeProc) write(path, content string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func TestStatParsesAwkwardComm(t *testing.T) {
	fp := newFakeProc(t)
	fp.add(42, 1, "a) (b c", 'S', 12345)
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
	fp.add(10, 1, "node", 'S', 700)
	fp.add(11, 1, "node", 'Z', 800)
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
	fp.add(5, 1, "openclaw-gatewa", 'S', 1, "openclaw-gateway"+strings.Repeat(" ", 40))
	argv, err := fp.fs().Cmdline(5)
	if err != nil || len(argv) != 1 || argv[0] != "openclaw-gateway" {
		t.Fatalf("Cmdline = %q, %v", argv, err)
	}
}

func TestChildrenFallsBackToParentScan(t *testing.T) {
	fp := newFakeProc(t)
	fp.add(100, 1, "openclaw-gatewa", 'S', 1)
	fp.add(101, 100, "node", 'S', 2)
	fp.add(102, 1, "bash", 'S', 3)
	fp.add(103, 100, "node", 'S', 4)
	kids, err := fp.fs().Children(100)
	if err != nil || fmt.Sprint(kids) != "[101 103]" {
		t.Fatalf("Children = %v, %v", kids, err)
	}
	// With the kernel's children lists present, those are used.
	fp.write(filepath.Join(fp.root, "100", "task", "100", "children"), "103 ")
	kids, err = fp.fs().Children(100)
	if err != nil || fmt.Sprint(kids) != "[103]" {
		t.Fatalf("Children with task lists = %v, %v", kids, err)
	}
}
