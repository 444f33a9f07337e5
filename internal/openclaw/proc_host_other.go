//go:build !linux && !windows

package openclaw

// hostLockStart: on macOS the gateway records `ps -o lstart=` in whole
// seconds since the Unix epoch.
func hostLockStart(_ int, start uint64) (uint64, error) { return start / 1000, nil }
