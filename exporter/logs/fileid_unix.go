//go:build unix

package logs

import (
	"os"
	"syscall"
)

// fileID is the open file's device and inode, which stay with it across
// renames (rotation).
func fileID(_ *os.File, fi os.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true
}
