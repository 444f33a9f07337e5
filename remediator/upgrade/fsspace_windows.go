//go:build windows

package upgrade

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// fsSpace names the volume holding dir (its serial number) and what it has
// free for the caller.
func fsSpace(dir string) (id, avail uint64, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return 0, 0, err
	}
	root := filepath.VolumeName(abs) + `\`
	p, err := windows.UTF16PtrFromString(root)
	if err != nil {
		return 0, 0, err
	}
	var serial uint32
	if err := windows.GetVolumeInformation(p, nil, 0, &serial, nil, nil, nil, 0); err != nil {
		return 0, 0, err
	}
	d, err := windows.UTF16PtrFromString(abs)
	if err != nil {
		return 0, 0, err
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(d, &free, &total, &totalFree); err != nil {
		return 0, 0, err
	}
	return uint64(serial), free, nil
}
