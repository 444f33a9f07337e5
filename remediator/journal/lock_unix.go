//go:build unix

package journal

import (
	"os"
	"syscall"
)

// errWouldBlock: the lock is held elsewhere.
const errWouldBlock = syscall.EWOULDBLOCK

// lockShared takes a shared lock on f without waiting, as bbolt's
// read-only open does (flock).
func lockShared(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
}
