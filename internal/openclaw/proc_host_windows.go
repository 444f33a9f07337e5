//go:build windows

package openclaw

// hostLockStart: on Windows the gateway records the process creation time
// (GetProcessTimes) in milliseconds since the Unix epoch, the unit of the
// host path's start times.
func hostLockStart(_ int, start uint64) (uint64, error) { return start, nil }
