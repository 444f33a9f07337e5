//go:build linux

package main

import (
	"syscall"
	"unsafe"
)

// The gateway retitles itself; so does the simulator, so that discovery by
// process title finds it like the real one. init runs on the main thread,
// whose name is what /proc/PID/comm shows.
func init() {
	title := []byte("openclaw-gatewa\x00")
	const prSetName = 15
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetName, uintptr(unsafe.Pointer(&title[0])), 0)
}
