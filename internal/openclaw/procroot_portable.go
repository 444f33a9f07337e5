//go:build !linux || clawwatch_portable

package openclaw

// Without /proc (or with clawwatch_portable, to test this path on Linux),
// the host's processes are read through gopsutil.
const defaultProcRoot = ""
