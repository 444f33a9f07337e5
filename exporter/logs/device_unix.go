//go:build unix

package logs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// device names the filesystem holding dir as /proc/self/mountinfo does,
// major:minor; "" where it cannot be read. The alerts tell one filesystem
// holding the logs and the state from two by it.
func device(dir string) string {
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)))
}
