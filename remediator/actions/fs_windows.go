//go:build windows

package actions

import (
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
)

// renameAt renames name in the directory from to newName in the directory
// to. Windows has no renameat: the names are joined to the directories'
// paths; MoveFileEx moves a symlink or junction itself, never its target,
// and the caller checks afterwards that the moved entry is the one checked.
func renameAt(from *os.File, name string, to *os.File, newName string) error {
	return os.Rename(filepath.Join(from.Name(), name), filepath.Join(to.Name(), newName))
}

// setModTime dates the open file f through its handle.
func setModTime(f *os.File, t time.Time) error {
	ft := windows.NsecToFiletime(t.UnixNano())
	return windows.SetFileTime(windows.Handle(f.Fd()), nil, &ft, &ft)
}
