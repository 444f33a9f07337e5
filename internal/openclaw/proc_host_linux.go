//go:build linux

package openclaw

// hostLockStart: on Linux the gateway records field 22 of /proc/PID/stat
// (clock ticks since boot), which gopsutil rounds away; it is read from
// /proc like the gateway does.
func hostLockStart(pid int, _ uint64) (uint64, error) {
	return ProcFS{Root: "/proc"}.StartTime(pid)
}
