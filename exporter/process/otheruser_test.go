package process

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/target"
	"github.com/clawwatch/clawwatch/exporter/target/targettest"
)

// childEnv makes the test binary run one process-collector update for the
// gateway URL in it, print the result as JSON and exit (see TestMain).
const childEnv = "CLAWWATCH_TEST_PROCESS_CHILD_URL"

// childResult is what the child prints.
type childResult struct {
	Series map[string]float64 `json:"series"`
	Err    string             `json:"err"`
}

func TestMain(m *testing.M) {
	if url := os.Getenv(childEnv); url != "" {
		os.Exit(runChild(url, os.Getenv("CLAWWATCH_TEST_STATE_DIR")))
	}
	os.Exit(m.Run())
}

func runChild(url, state string) int {
	cfg, err := config.Parse(fmt.Appendf(nil, "gateways:\n  - name: g\n    url: %s\n    state_dir: %s\n", url, state), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	tg, err := target.New(cfg.Gateways[0], slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var res childResult
	series, err := targettest.Gather(New(tg))
	if err != nil {
		res.Err = err.Error()
	}
	res.Series = series
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 2
	}
	return 0
}

// TestExporterRunningAsAnotherUser is issue 13's permission attack: an
// exporter that cannot read the gateway's /proc/PID/fd (another user's
// process, without CAP_SYS_PTRACE) reported openclaw_gateway_process_up 0
// with collector success 1, and OpenClawGatewayDown restarts on that. The
// test process (root) plays the gateway, listening on the port, and runs the
// collector in a child as nobody, for which the fds are EACCES.
func TestExporterRunningAsAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the collector runs in a child as uid 65534")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", os.Getpid())); err != nil {
		t.Fatal(err)
	}
	// Two processes titled like a gateway, so that the last-resort title
	// scan is ambiguous whatever else runs on the host (a unique one would
	// be taken for the gateway). Their HOME claims no state directory.
	for range 2 {
		decoy := exec.Command("sleep", "300")
		decoy.Args[0] = "openclaw-gateway"
		decoy.Env = []string{"HOME=/nonexistent"}
		if err := decoy.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { decoy.Process.Kill(); decoy.Wait() })
	}

	// The test binary, copied where nobody can run it.
	dir, err := os.MkdirTemp("", "clawwatch-otheruser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "process.test")
	copyExecutable(t, bin)
	state := filepath.Join(dir, "state")
	for _, d := range []string{dir, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	child := exec.Command(bin, "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=http://"+ln.Addr().String(), "CLAWWATCH_TEST_STATE_DIR="+state, "HOME="+dir)
	child.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	child.Stderr = os.Stderr
	out, err := child.Output()
	if err != nil {
		t.Fatalf("child as nobody: %v", err)
	}
	var res childResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	t.Logf("as uid 65534: err %q, series %v", res.Err, res.Series)
	if v, ok := res.Series["openclaw_gateway_process_up"]; ok && v == 0 && res.Err == "" {
		t.Fatal("a gateway whose /proc the exporter cannot read was reported as no process (up 0) by a successful collector")
	}
	if !strings.Contains(res.Err, "not visible") {
		t.Errorf("collector error %q, want one saying the gateway's process is not visible", res.Err)
	}
}

func copyExecutable(t *testing.T, dst string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
