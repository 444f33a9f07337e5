package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnits runs `systemd-analyze verify` on the units in
// deploy/systemd. verify exits 0 on unknown keys and merely prints them, so
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
		for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "User=" + name} {
			if !strings.Contains(text, "\n"+want+"\n") {
				t.Errorf("%s: missing %s", u, want)
			}
		}
		c := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(c, []byte(strings.ReplaceAll(text, "/usr/local/bin/", bin+"/")), 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, c)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, copies...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
