package openclaw

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// inet_diag constants from linux/inet_diag.h.
const (
	netlinkInetDiag  = 4  // NETLINK_INET_DIAG, also NETLINK_SOCK_DIAG
	tcpDiagGetSock   = 18 // TCPDIAG_GETSOCK, the compat request
	inetDiagReqLen   = 60 // struct inet_diag_req (compat)
	inetDiagMsgMin   = 72 // struct inet_diag_msg
	inetDiagBytecode = 1  // INET_DIAG_REQ_BYTECODE attribute
	bcSourceCond     = 7  // INET_DIAG_BC_S_COND
)

// portFilter is the bytecode `ss` sends for "sport = :port": one source
// condition (struct inet_diag_hostcond: any family, no address, the port).
// A false test jumps past the end, which rejects the socket in the kernel, so
// only the port's sockets are sent to us.
func portFilter(port int) []byte {
	const total = 4 + 8 // op + hostcond
	bc := make([]byte, total)
	bc[0], bc[1] = bcSourceCond, total
	binary.NativeEndian.PutUint16(bc[2:], total+4)
	// hostcond: family AF_UNSPEC, prefix_len 0, 2 bytes padding, int port
	binary.NativeEndian.PutUint32(bc[8:], uint32(int32(port)))
	return bc
}

// sameNetNS reports whether pid shares this process's network namespace,
// in which case the kernel's socket diagnostics answer for it.
func (p ProcFS) sameNetNS(pid int) bool {
	if p.Root != DefaultProcFS.Root {
		return false
	}
	mine, err1 := os.Readlink("/proc/self/ns/net")
	theirs, err2 := os.Readlink(p.path(strconv.Itoa(pid), "ns", "net"))
	return err1 == nil && err2 == nil && mine == theirs
}

// tcpStatesDiag counts TCP sockets on a local port by state through
// NETLINK_INET_DIAG: the kernel sends fixed-size binary records instead of
// formatting /proc/net/tcp as text, which costs far less with thousands of
// sockets. The compat TCPDIAG_GETSOCK request is used on purpose: it dumps
// IPv4 and IPv6 in one walk of the kernel's socket hash tables (family
// AF_UNSPEC), where SOCK_DIAG_BY_FAMILY needs one walk per family, and the
// walk over every hash bucket is most of the cost.
func tcpStatesDiag(port int) (map[string]int, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkInetDiag)
	if err != nil {
		return nil, fmt.Errorf("inet_diag socket: %w", err)
	}
	defer syscall.Close(fd)

	filter := portFilter(port)
	req := make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqLen+syscall.NLA_HDRLEN+len(filter))
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], tcpDiagGetSock)
	binary.NativeEndian.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], 1)
	body := req[syscall.NLMSG_HDRLEN:]
	body[0] = syscall.AF_UNSPEC
	binary.NativeEndian.PutUint32(body[52:], 0xffffffff) // idiag_states: every state
	attr := body[inetDiagReqLen:]
	binary.NativeEndian.PutUint16(attr[0:], uint16(syscall.NLA_HDRLEN+len(filter)))
	binary.NativeEndian.PutUint16(attr[2:], inetDiagBytecode)
	copy(attr[syscall.NLA_HDRLEN:], filter)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("inet_diag request: %w", err)
	}

	var byState [256]int
	buf := make([]byte, 1<<16)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("inet_diag answer: %w", err)
		}
		// Walk the messages in place: ParseNetlinkMessage would allocate
		// one per socket.
		for b := buf[:n]; len(b) >= syscall.NLMSG_HDRLEN; {
			size := int(binary.NativeEndian.Uint32(b[0:4]))
			if size < syscall.NLMSG_HDRLEN || size > len(b) {
				return nil, fmt.Errorf("inet_diag answer: bad message length %d", size)
			}
			data := b[syscall.NLMSG_HDRLEN:size]
			switch binary.NativeEndian.Uint16(b[4:6]) {
			case syscall.NLMSG_DONE:
				return stateCounts(&byState), nil
			case syscall.NLMSG_ERROR:
				if len(data) >= 4 {
					if errno := int32(binary.NativeEndian.Uint32(data)); errno != 0 {
						return nil, fmt.Errorf("inet_diag: %w", syscall.Errno(-errno))
					}
				}
				return stateCounts(&byState), nil
			}
			// inet_diag_msg: family, state, timer, retrans, then the
			// socket id starting with the source port in network order.
			if len(data) >= inetDiagMsgMin && int(binary.BigEndian.Uint16(data[4:6])) == port {
				byState[data[1]]++
			}
			b = b[min(nlmsgAlign(size), len(b)):]
		}
	}
}

// nlmsgAlign rounds a netlink message length up to the 4-byte alignment.
func nlmsgAlign(n int) int { return (n + syscall.NLMSG_ALIGNTO - 1) &^ (syscall.NLMSG_ALIGNTO - 1) }

// stateCounts names the kernel's numeric TCP states.
func stateCounts(byState *[256]int) map[string]int {
	counts := map[string]int{}
	for st, n := range byState {
		if n == 0 {
			continue
		}
		name, ok := tcpStateNames[fmt.Sprintf("%02X", st)]
		if !ok {
			name = "unknown"
		}
		counts[name] += n
	}
	return counts
}
