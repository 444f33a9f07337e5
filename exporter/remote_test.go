package exporter_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// netns is a network namespace joined to this one by a veth pair: Addr is
// an address there, not one of this host's, reachable from here, so test
// traffic to it stays on this machine.
type netns struct {
	Name, Addr string
}

// newNetns creates the namespace for the test and deletes it after. It needs
// root and ip(8): without them the test skips, except under CI=true.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("a network namespace needs root and ip(8) (euid %d, %v)", os.Geteuid(), err)
		}
		t.Skipf("a network namespace needs root and ip(8) (euid %d, %v)", os.Geteuid(), err)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	// 10.(200-255).x.y/30 from the random id: two tests at once do not share one.
	host := fmt.Sprintf("10.%d.%d.%d", 200+int(b[0])%56, b[1], int(b[2])&^3)
	peer := host[:strings.LastIndex(host, ".")+1] + strconv.Itoa(int(b[2])&^3+2)
	host = host[:strings.LastIndex(host, ".")+1] + strconv.Itoa(int(b[2])&^3+1)
	n := &netns{Name: "cw-" + id, Addr: peer}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", n.Name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.Name).Run() })
	run("link", "add", "cwh"+id, "type", "veth", "peer", "name", "cwn"+id)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", "cwh"+id).Run() })
	run("link", "set", "cwn"+id, "netns", n.Name)
	run("addr", "add", host+"/30", "dev", "cwh"+id)
	run("link", "set", "cwh"+id, "up")
	run("-n", n.Name, "addr", "add", peer+"/30", "dev", "cwn"+id)
	run("-n", n.Name, "link", "set", "cwn"+id, "up")
	run("-n", n.Name, "link", "set", "lo", "up")
	return n
}

// A gateway on another host never carries the series of a local process
// that listens on its port: here a local simulator holds the port on
// loopback while the gateway the exporter watches answers on the same port
// at an address in another network namespace.
func TestRemoteGatewayHasNoLocalProcessSeries(t *testing.T) {
	t.Parallel()
	ns := newNetns(t)
	local := simtest.Start(t, simtest.Options{})

	remoteURL := "http://" + ns.Addr + ":" + strconv.Itoa(local.Port)
	cmd := exec.Command("ip", "netns", "exec", ns.Name, simtest.Binary(t),
		"--port", strconv.Itoa(local.Port), "--bind", ns.Addr,
		"--control.listen-address", ns.Addr+":"+strconv.Itoa(simtest.FreePort(t)),
		"--state-dir", t.TempDir(), "--log-dir", t.TempDir(), "--gateway-version", "2026.9.6")
	var out simtest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	simtest.Eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(remoteURL + "/healthz")
		if err != nil {
			return fmt.Errorf("%w; simulator: %s", err, out.String())
		}
		resp.Body.Close()
		return nil
	})

	// The local simulator's state and log directories, as a misconfigured
	// exporter would see them: still no lock, log or disk series.
	reg := watch(t, &simtest.Sim{URL: remoteURL, StateDir: local.StateDir, LogDir: local.LogDir}, "200ms", "150ms")
	m := until(t, reg, "the remote gateway probed", func(m sample) bool {
		return m["openclaw_gateway_up"] == 1 && hasPrefix(m, "openclaw_gateway_info{")
	})
	for key := range m {
		for _, prefix := range []string{"openclaw_gateway_process_", "openclaw_gateway_lock_", "openclaw_log_", "openclaw_filesystem_"} {
			if strings.HasPrefix(key, prefix) {
				t.Errorf("remote gateway has %s = %v: a local process's series", key, m[key])
			}
		}
		for _, c := range []string{"process", "locks", "logs"} {
			if strings.Contains(key, `collector="`+c+`"`) {
				t.Errorf("remote gateway runs the %s collector: %s", c, key)
			}
		}
	}
	if m[`openclaw_exporter_collector_success{collector="gateway"}`] != 1 {
		t.Errorf("gateway collector failed: %v", m)
	}
}
