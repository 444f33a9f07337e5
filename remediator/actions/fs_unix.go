//go:build unix

package actions

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// renameAt renames name in the open directory from to newName in the open
// directory to (renameat(2): neither name is followed).
func renameAt(from *os.File, name string, to *os.File, newName string) error {
	return unix.Renameat(int(from.Fd()), name, int(to.Fd()), newName)
}

// setModTime dates the open file f through its descriptor.
func setModTime(f *os.File, t time.Time) error {
	tv := syscall.NsecToTimeval(t.UnixNano())
	return syscall.Futimes(int(f.Fd()), []syscall.Timeval{tv, tv})
}
