//go:build linux && !clawwatch_portable

package openclaw

const defaultProcRoot = "/proc"
