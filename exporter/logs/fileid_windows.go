//go:build windows

package logs

import (
	"os"

	"golang.org/x/sys/windows"
)

// fileID is the open file's volume serial number and file index, Windows'
// device and inode, which stay with it across renames (rotation).
func fileID(f *os.File, _ os.FileInfo) (dev, ino uint64, ok bool) {
	var info windows.ByHandleFileInformation
	if windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info) != nil {
		return 0, 0, false
	}
	return uint64(info.VolumeSerialNumber), uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow), true
}
