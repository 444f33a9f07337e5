//go:build linux

package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// TestDemoScript runs deploy/demo.sh (what `make demo` runs) as a user would:
// it must start the whole loop, print the URLs, narrate the hang and its
// remediation until the gateway is healthy again, and on Ctrl-C stop
// everything it started, the gateway the remediator restarted included.
func TestDemoScript(t *testing.T) {
	t.Parallel()
	tools := filepath.Dir(testbin.Tool(t, "prometheus"))
	port, control, metrics := simtest.FreePort(t), simtest.FreePort(t), simtest.FreePort(t)
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", bin+"/", "../cmd/...").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("bash", "../deploy/demo.sh")
	cmd.Env = append(cmd.Environ(),
		"BIN_DIR="+bin,
		"DEMO_PORT="+strconv.Itoa(port),
		"DEMO_CONTROL_PORT="+strconv.Itoa(control),
		"DEMO_EXPORTER_PORT="+strconv.Itoa(metrics),
		"DEMO_REMEDIATOR_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_PROMETHEUS_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_ALERTMANAGER_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_DIR="+t.TempDir(),
		"DEMO_FAULT_AFTER=1",
		"TOOLS_DIR="+tools,
	)
	var out simtest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Whatever happens, nothing the demo started outlives the test.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

	pidRe := regexp.MustCompile(`simulated OpenClaw gateway \(pid (\d+)\) is ready, watched by openclaw-exporter \(pid (\d+)\)`)
	var simPID, exporterPID int
	simtest.Eventually(t, 60*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo exited early (%v):\n%s", err, out.String())
		default:
		}
		m := pidRe.FindSubmatch([]byte(out.String()))
		if m == nil {
			return errors.New("no ready banner yet:\n" + out.String())
		}
		simPID, _ = strconv.Atoi(string(m[1]))
		exporterPID, _ = strconv.Atoi(string(m[2]))
		return nil
	})
	for _, want := range []string{"/faults", "Ctrl-C", "127.0.0.1:" + strconv.Itoa(port), "Prometheus", "Alertmanager",
		"remediator", `openclaw_gateway_up{gateway="demo"} 1`} {
		if !bytes.Contains([]byte(out.String()), []byte(want)) {
			t.Errorf("banner does not mention %q:\n%s", want, out.String())
		}
	}

	// The narration follows the loop to the end.
	recovered := regexp.MustCompile(`recovered: the gateway is healthy again \(new pid (\d+)\)`)
	var newPID int
	simtest.Eventually(t, 3*time.Minute, func() error {
		m := recovered.FindSubmatch([]byte(out.String()))
		if m == nil {
			return errors.New("not recovered yet:\n" + out.String())
		}
		newPID, _ = strconv.Atoi(string(m[1]))
		return nil
	})
	for _, want := range []string{"fault injected", "OpenClawGatewayHung is firing", "result: success", "OpenClawGatewayHung is inactive"} {
		if !bytes.Contains([]byte(out.String()), []byte(want)) {
			t.Errorf("narration does not say %q:\n%s", want, out.String())
		}
	}
	if code, _, err := httpGet("http://127.0.0.1:"+strconv.Itoa(port)+"/readyz", 10*time.Second); err != nil || code != 200 {
		t.Fatalf("demo gateway /readyz after recovery = %d %v", code, err)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop on SIGINT")
	}
	for _, pid := range []int{simPID, exporterPID, newPID} {
		if _, err := openclaw.DefaultProcFS.StartTime(pid); !errors.Is(err, openclaw.ErrNoProcess) {
			t.Errorf("pid %d still running after Ctrl-C (err %v)", pid, err)
		}
	}
}
