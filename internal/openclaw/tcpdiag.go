package openclaw

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// sock_diag constants from linux/sock_diag.h and linux/inet_diag.h.
const (
	netlinkSockDiag  = 4
	sockDiagByFamily = 20
	inetDiagReqLen   = 56 // struct inet_diag_req_v2
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
// NETLINK_SOCK_DIAG: the kernel sends fixed-size binary records instead of
// formatting /proc/net/tcp as text, which costs far less with thousands of
// sockets.
func tcpStatesDiag(port int) (map[string]int, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer syscall.Close(fd)
	counts := map[string]int{}
	buf := make([]byte, 1<<16)
	for seq, family := range []uint8{syscall.AF_INET, syscall.AF_INET6} {
		filter := portFilter(port)
		req := make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqLen+syscall.NLA_HDRLEN+len(filter))
		binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
		binary.NativeEndian.PutUint16(req[4:], sockDiagByFamily)
		binary.NativeEndian.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
		binary.NativeEndian.PutUint32(req[8:], uint32(seq+1))
		body := req[syscall.NLMSG_HDRLEN:]
		body[0] = family
		body[1] = syscall.IPPROTO_TCP
		binary.NativeEndian.PutUint32(body[4:], 0xffffffff) // every state
		attr := body[inetDiagReqLen:]
		binary.NativeEndian.PutUint16(attr[0:], uint16(syscall.NLA_HDRLEN+len(filter)))
		binary.NativeEndian.PutUint16(attr[2:], inetDiagBytecode)
		copy(attr[syscall.NLA_HDRLEN:], filter)
		if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			return nil, fmt.Errorf("sock_diag request: %w", err)
		}
	recv:
		for {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				return nil, fmt.Errorf("sock_diag answer: %w", err)
			}
			msgs, err := syscall.ParseNetlinkMessage(buf[:n])
			if err != nil {
				return nil, fmt.Errorf("sock_diag answer: %w", err)
			}
			for _, m := range msgs {
				switch m.Header.Type {
				case syscall.NLMSG_DONE:
					break recv
				case syscall.NLMSG_ERROR:
					if len(m.Data) >= 4 {
						if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
							return nil, fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
						}
					}
					break recv
				}
				if len(m.Data) < inetDiagMsgMin {
					continue
				}
				// inet_diag_msg: family, state, timer, retrans, then the
				// socket id starting with the source port in network order.
				if int(binary.BigEndian.Uint16(m.Data[4:6])) != port {
					continue
				}
				name, ok := tcpStateNames[fmt.Sprintf("%02X", m.Data[1])]
				if !ok {
					name = "unknown"
				}
				counts[name]++
			}
		}
	}
	return counts, nil
}
