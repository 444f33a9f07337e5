//go:build unix

package upgrade

import "golang.org/x/sys/unix"

// fsSpace names the filesystem holding dir and what it has free for an
// unprivileged writer. Filesystems are told apart by device: f_fsid is 0
// on some (tmpfs).
func fsSpace(dir string) (id, avail uint64, err error) {
	var dev unix.Stat_t
	var st unix.Statfs_t
	if err := unix.Stat(dir, &dev); err != nil {
		return 0, 0, err
	}
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return uint64(dev.Dev), st.Bavail * uint64(st.Bsize), nil //nolint:unconvert // Dev is int32 on macOS
}
