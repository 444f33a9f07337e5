//go:build linux && !clawwatch_portable

package openclaw

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestTCPStatesDiagAgreesWithProc(t *testing.T) {
	accept := func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go accept(ln)
	port := ln.Addr().(*net.TCPAddr).Port
	addrs := []string{ln.Addr().String()}
	// The same port on IPv6 where the host has it: one dump covers both.
	if ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		defer ln6.Close()
		go accept(ln6)
		addrs = append(addrs, ln6.Addr().String())
	}
	// Enough sockets that the kernel's answer spans several reads.
	const conns = 600
	for i := range conns {
		c, err := net.Dial("tcp", addrs[i%len(addrs)])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	var fromProc, fromDiag map[string]int
	// Accepts run concurrently: poll until every server-side socket is
	// established and both readings agree.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fromProc, err = DefaultProcFS.tcpStatesProc(os.Getpid(), port)
		if err != nil {
			t.Fatal(err)
		}
		fromDiag, err = tcpStatesDiag(port)
		if err != nil {
			t.Fatal(err)
		}
		if fromProc["established"] == conns && fmt.Sprint(fromProc) == fmt.Sprint(fromDiag) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The listeners and the accepted server-side sockets (the clients'
	// sockets have other local ports).
	if fromProc["listen"] != len(addrs) || fromProc["established"] != conns || fmt.Sprint(fromProc) != fmt.Sprint(fromDiag) {
		t.Fatalf("proc %v, sock_diag %v; want %d listening and %d established", fromProc, fromDiag, len(addrs), conns)
	}
	if !DefaultProcFS.sameNetNS(os.Getpid()) {
		t.Fatal("this process is not in its own network namespace")
	}
}
