//go:build !linux

package openclaw

import "errors"

// Socket diagnostics are Linux's netlink; elsewhere TCPStates reads the
// host's sockets through gopsutil (ProcFS with an empty Root).
func (p ProcFS) sameNetNS(int) bool { return false }

func tcpStatesDiag(int) (map[string]int, error) {
	return nil, errors.New("inet_diag is Linux only")
}
