//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// setOpenFilesLimit lowers a running process's RLIMIT_NOFILE, soft and
// hard, as a service's LimitNOFILE would.
func setOpenFilesLimit(t *testing.T, pid int, n uint64) {
	t.Helper()
	lim := syscall.Rlimit{Cur: n, Max: n}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE,
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0); errno != 0 {
		t.Fatalf("prlimit %d: %v", pid, errno)
	}
}

// TestIdleConnectionsDoNotStarveWebhooks is the attack of issue 13: with a
// 1,024-descriptor limit, 1,100 connections opened without credentials
// that send one request and then idle on keep-alive must not keep an
// authenticated webhook out (it timed out on accept4: too many open files).
// The connection limit keeps the remediator's descriptors below its
// limit; the idle timeout frees the slots.
func TestIdleConnectionsDoNotStarveWebhooks(t *testing.T) {
	_, cfg, tokenFile, _ := setup(t)
	port := simtest.FreePort(t)
	p := startRemediator(t, cfg, tokenFile, port, "--web.idle-timeout", "3s")
	setOpenFilesLimit(t, p.cmd.Process.Pid, 1024)

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range 1100 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		// One unauthenticated request, then nothing: the connection stays
		// open on keep-alive.
		if _, err := fmt.Fprintf(c, "GET /api/v1/incidents HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	// The first of them was answered, and stays open.
	resp, err := http.ReadResponse(bufio.NewReader(conns[0]), nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated request: %v %v", resp, err)
	}
	resp.Body.Close()

	req, _ := http.NewRequest(http.MethodPost, p.url+"/api/v1/alerts", bytes.NewReader(remtest.Alert(t, "Flood", "fd00000000000001", "none")))
	req.Header.Set("Authorization", "Bearer "+token)
	// Generous: the idle connections ahead of it in the accept queue are
	// served and time out first.
	client := http.Client{Timeout: 2 * time.Minute}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("authenticated webhook behind %d idle connections: %v\n%s", len(conns), err, p.out)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authenticated webhook: %d", resp.StatusCode)
	}
	select {
	case <-p.done:
		t.Fatalf("remediator exited:\n%s", p.out)
	default:
	}
}
