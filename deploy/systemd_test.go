package deploy

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// TestSystemdUnits runs `systemd-analyze verify` on the units in
// deploy/systemd: each service and the socket unit it listens on. verify exits 0 on unknown keys and merely prints them, so
// any output fails the test. The units start /usr/local/bin/…, which does not
// exist here: each copy points at a stand-in executable instead, the way
// hostView maps container paths.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-analyze is needed (Debian package systemd): %v", err)
		}
		t.Skipf("systemd-analyze not installed (Debian package systemd): %v", err)
	}
	units, err := filepath.Glob(filepath.Join("systemd", "*.service"))
	if sockets, _ := filepath.Glob(filepath.Join("systemd", "*.socket")); len(sockets) != len(units) {
		t.Errorf("socket units %v, want one per service %v", sockets, units)
	}
	if err != nil || len(units) != 2 {
		t.Fatalf("units in deploy/systemd: %v %v, want the exporter's and the remediator's", units, err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	var copies []string
	for _, u := range units {
		name := strings.TrimSuffix(filepath.Base(u), ".service")
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if !strings.Contains(text, "ExecStart=/usr/local/bin/"+name+" ") {
			t.Errorf("%s: ExecStart does not run /usr/local/bin/%s", u, name)
		}
		// Each service listens on its socket unit's socket: the flag, the
		// dependency, and enabling the one enables the other.
		if !strings.Contains(text, "ExecStart=/usr/local/bin/"+name+" --web.systemd-socket ") &&
			!strings.Contains(text, "ExecStart=/usr/local/bin/"+name+" serve --web.systemd-socket ") {
			t.Errorf("%s: ExecStart does not pass --web.systemd-socket", u)
		}
		for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "User=" + name,
			"Requires=" + name + ".socket", "After=" + name + ".socket", "Also=" + name + ".socket"} {
			if !strings.Contains(text, "\n"+want+"\n") {
				t.Errorf("%s: missing %s", u, want)
			}
		}
		socket, err := os.ReadFile(strings.TrimSuffix(u, ".service") + ".socket")
		if err != nil {
			t.Errorf("%s: no socket unit beside it: %v", u, err)
			continue
		}
		for _, want := range []string{"[Socket]", "ListenStream=", "WantedBy=sockets.target"} {
			if !strings.Contains(string(socket), want) {
				t.Errorf("%s.socket: missing %s", name, want)
			}
		}
		c := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(c, []byte(strings.ReplaceAll(text, "/usr/local/bin/", bin+"/")), 0o644); err != nil {
			t.Fatal(err)
		}
		sc := filepath.Join(dir, name+".socket")
		if err := os.WriteFile(sc, socket, 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, c, sc)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, copies...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSocketActivation starts the exporter as openclaw-exporter.service
// does, with --web.systemd-socket, under systemd-socket-activate holding a
// loopback socket as openclaw-exporter.socket would: the first connection
// starts it and it answers on the socket it was handed.
func TestSocketActivation(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-socket-activate is needed (Debian package systemd): %v", err)
		}
		t.Skipf("systemd-socket-activate not installed (Debian package systemd): %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "exporter.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "gateways:\n  - name: nowhere\n    url: http://127.0.0.1:%d\n", simtest.FreePort(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", simtest.FreePort(t))
	cmd := exec.Command(activate, "--listen="+addr, testbin.Command(t, "openclaw-exporter"),
		"--web.systemd-socket", "--no-collector.gpu", "--config.file="+cfg)
	var out simtest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("output:\n%s", out.String())
		}
	})
	simtest.Eventually(t, 30*time.Second, func() error {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
}
