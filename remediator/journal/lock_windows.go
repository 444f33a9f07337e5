//go:build windows

package journal

import (
	"math"
	"os"

	"golang.org/x/sys/windows"
)

// errWouldBlock: the lock is held elsewhere.
const errWouldBlock = windows.ERROR_LOCK_VIOLATION

// lockShared takes a shared lock on f without waiting, on the byte range
// bbolt locks on Windows (one byte at offset 2^64-1), so that it conflicts
// with a running remediator's exclusive lock.
func lockShared(f *os.File) error {
	ol := windows.Overlapped{Offset: math.MaxUint32, OffsetHigh: math.MaxUint32}
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}
