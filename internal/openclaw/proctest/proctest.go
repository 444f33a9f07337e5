// Package proctest builds fake /proc trees in a temporary directory for tests
// of code that reads processes through openclaw.ProcFS{Root: tree.Root}.
package proctest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Tree is a proc tree in a temporary directory.
type Tree struct {
	t    testing.TB
	Root string
}

// New returns an empty tree.
func New(t testing.TB) *Tree { return &Tree{t: t, Root: t.TempDir()} }

// Add writes /proc/PID/{stat,cmdline,status} and an empty fd directory for a
// process.
func (f *Tree) Add(pid, ppid int, comm string, state byte, start uint64, argv ...string) {
	f.t.Helper()
	dir := strconv.Itoa(pid)
	if err := os.MkdirAll(filepath.Join(f.Root, dir, "fd"), 0o755); err != nil {
		f.t.Fatal(err)
	}
	// A real stat line: 52 fields, starttime is field 22.
	rest := make([]string, 49)
	for i := range rest {
		rest[i] = "0"
	}
	rest[0] = strconv.Itoa(ppid)             // field 4
	rest[18] = strconv.FormatUint(start, 10) // field 22
	f.Write(filepath.Join(dir, "stat"), fmt.Sprintf("%d (%s) %c %s\n", pid, comm, state, strings.Join(rest, " ")))
	f.Write(filepath.Join(dir, "cmdline"), strings.Join(argv, "\x00")+"\x00")
	// The caller's uid: the owner of the lock files a test writes for it.
	uid := strconv.Itoa(os.Getuid())
	f.Write(filepath.Join(dir, "status"), "Name:\t"+comm+"\nUid:\t"+uid+"\t"+uid+"\t"+uid+"\t"+uid+"\nVmRSS:\t  2048 kB\n")
}

// Environ writes /proc/PID/environ from KEY=value pairs.
func (f *Tree) Environ(pid int, env ...string) {
	f.t.Helper()
	f.Write(filepath.Join(strconv.Itoa(pid), "environ"), strings.Join(env, "\x00")+"\x00")
}

// Listen makes pid the owner of a LISTEN socket on a loopback port: the
// socket in net/tcp (replacing the table) and its inode among pid's fds.
func (f *Tree) Listen(pid, port int, inode uint64) {
	f.t.Helper()
	f.Write("net/tcp", fmt.Sprintf("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
		"   0: 0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 100 0 0 10 0\n", port, inode))
	if err := os.Symlink(fmt.Sprintf("socket:[%d]", inode), filepath.Join(f.Root, strconv.Itoa(pid), "fd", "7")); err != nil {
		f.t.Fatal(err)
	}
}

// Write writes a file at a path relative to the root.
func (f *Tree) Write(rel, content string) {
	f.t.Helper()
	path := filepath.Join(f.Root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// Connections makes the calling process hold n established TCP connections
// on a loopback listener, accepted in the background, and returns the
// listener's address; everything is closed when the test ends.
func Connections(t testing.TB, n int) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	return ln.Addr().(*net.TCPAddr)
}
