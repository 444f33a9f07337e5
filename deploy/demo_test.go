package deploy

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// TestDemoCtrlC: the demo's banner names the console's URL, and Ctrl-C (a
// SIGINT to its whole process group, as a terminal sends it) stops the demo
// with exit status 0, so that `make demo` does not end with "Error 130".
// e2e's TestDemoScript follows the whole loop; this stops at the banner.
func TestDemoCtrlC(t *testing.T) {
	tools := filepath.Dir(testbin.Tool(t, "prometheus"))
	bin := t.TempDir()
	for _, c := range []string{"openclaw-gatewaysim", "openclaw-exporter", "openclaw-remediator"} {
		if err := exec.Command("ln", "-s", testbin.Command(t, c), filepath.Join(bin, c)).Run(); err != nil {
			t.Fatal(err)
		}
	}
	remediator := simtest.FreePort(t)
	cmd := exec.Command("bash", "demo.sh")
	cmd.Env = append(cmd.Environ(),
		"BIN_DIR="+bin,
		"TOOLS_DIR="+tools,
		"DEMO_DIR="+t.TempDir(),
		"DEMO_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_CONTROL_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_EXPORTER_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_REMEDIATOR_PORT="+strconv.Itoa(remediator),
		"DEMO_PROMETHEUS_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_ALERTMANAGER_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_PEOPLE_PORT="+strconv.Itoa(simtest.FreePort(t)),
		"DEMO_FAULT_AFTER=3600", // the fault is not what this test is about
	)
	var out simtest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

	console := regexp.MustCompile(`(?m)^  console +` + regexp.QuoteMeta("http://127.0.0.1:"+strconv.Itoa(remediator)+"/console/") + ` `)
	simtest.Eventually(t, 2*time.Minute, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo exited early (%v):\n%s", err, out.String())
		default:
		}
		if !console.MatchString(out.String()) {
			return errors.New("no console URL in the banner yet:\n" + out.String())
		}
		return nil
	})

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang detector, not a threshold
		t.Fatalf("demo did not stop on Ctrl-C:\n%s", out.String())
	}
	if err != nil {
		t.Errorf("demo after Ctrl-C: %v, want exit status 0:\n%s", err, out.String())
	}
	if !regexp.MustCompile(`demo stopped; nothing left running`).MatchString(out.String()) {
		t.Errorf("no goodbye after Ctrl-C:\n%s", out.String())
	}
}
