//go:build linux

package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// nobody is the uid (and gid) the other user runs as: Debian's "nobody",
// whose home, /nonexistent, has no .openclaw.
const nobody = 65534

// TestExporterAsAnotherUser: the exporter with no state_dir, as a user
// other than the gateway's (the README's systemd install), reports the
// gateway's real locks and its state filesystem, found from the gateway's
// process; where it cannot know, its locks collector fails with the reason
// instead of reporting 0.
func TestExporterAsAnotherUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("running the gateway and the exporter as two users needs root")
		}
		t.Skip("running the gateway and the exporter as two users needs root")
	}
	// Both binaries where nobody can run them (the build cache is under
	// /root, which is 0700).
	shared := t.TempDir()
	for _, d := range []string{filepath.Dir(shared), shared} { // TempDir makes both 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sim, exp := copyExe(t, simtest.Binary(t), shared), copyExe(t, testbin.Command(t, "openclaw-exporter"), shared)

	t.Run("exporter as root, gateway as nobody", func(t *testing.T) {
		state := startSimAs(t, sim, shared, nobody)
		scrapeUntil(t, exp, shared, 0, state.port, func(m string) error {
			for _, want := range []string{
				`openclaw_gateway_lock_files{gateway="gw"} 2`,
				`openclaw_exporter_collector_success{collector="locks",gateway="gw"} 1`,
				`role="state"`, state.dir,
			} {
				if !strings.Contains(m, want) {
					return fmt.Errorf("no %s", want)
				}
			}
			return nil
		})
	})
	t.Run("exporter as nobody, gateway as root", func(t *testing.T) {
		state := startSimAs(t, sim, shared, 0)
		log := scrapeUntil(t, exp, shared, nobody, state.port, func(m string) error {
			if want := `openclaw_exporter_collector_success{collector="locks",gateway="gw"} 0`; !strings.Contains(m, want) {
				return fmt.Errorf("no %s", want)
			}
			return nil
		})
		if want := "collector=locks gateway=gw err=\"state_dir is left at its default /nonexistent/.openclaw"; !strings.Contains(log(), want) || !strings.Contains(log(), "set state_dir") {
			t.Errorf("the exporter's log does not say why: want %q in\n%s", want, log())
		}
	})
}

// copyExe copies the executable src into dir, runnable by anyone.
func copyExe(t *testing.T, src, dir string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(dir, filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// simState is a simulated gateway started by startSimAs.
type simState struct {
	dir  string // its state directory
	port int
}

// startSimAs starts the simulator as uid, with its state directory in its
// environment as the real gateway reads it (OPENCLAW_STATE_DIR), owned by
// uid, and waits until it is ready.
func startSimAs(t *testing.T, sim, shared string, uid int) simState {
	t.Helper()
	home, err := os.MkdirTemp(shared, "home-")
	if err != nil {
		t.Fatal(err)
	}
	state, logs := filepath.Join(home, ".openclaw"), filepath.Join(home, "logs")
	for _, d := range []string{home, state, logs} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	port, ctl := simtest.FreePort(t), simtest.FreePort(t)
	cmd := exec.Command(sim, "--port", strconv.Itoa(port), "--control.listen-address", "127.0.0.1:"+strconv.Itoa(ctl),
		"--state-dir", state, "--log-dir", logs, "--token", "")
	cmd.Env = append(os.Environ(), "HOME="+home, "OPENCLAW_STATE_DIR="+state)
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	g := &gateway{name: "sim", url: "http://127.0.0.1:" + strconv.Itoa(port)}
	waitReady(t, g, 30*time.Second, func() string { return "" })
	return simState{dir: state, port: port}
}

// scrapeUntil runs the exporter as uid with a configuration that names
// only the gateway's URL, and scrapes it until check accepts /metrics; it
// returns a reader of the exporter's log.
func scrapeUntil(t *testing.T, exp, shared string, uid, gatewayPort int, check func(metrics string) error) func() string {
	t.Helper()
	dir, err := os.MkdirTemp(shared, "exporter-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	cfg := filepath.Join(dir, "exporter.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "gateways:\n  - name: gw\n    url: http://127.0.0.1:%d\n", gatewayPort), 0o644); err != nil {
		t.Fatal(err)
	}
	port := simtest.FreePort(t)
	cmd := exec.Command(exp, "--config.file", cfg, "--web.listen-address", "127.0.0.1:"+strconv.Itoa(port), "--no-collector.gpu")
	cmd.Dir = dir
	if uid == nobody {
		cmd.Env = append(os.Environ(), "HOME=/nonexistent") // as its login would set it
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	logf, err := os.Create(filepath.Join(dir, "exporter.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	log := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	var last string
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body, err := httpGet("http://127.0.0.1:"+strconv.Itoa(port)+"/metrics", 10*time.Second)
		if err == nil && code == 200 {
			last = string(body)
			if err = check(last); err == nil {
				return log
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter as uid %d: %v\nlog:\n%s\nmetrics:\n%s", uid, err, log(), grepLines(last, "lock", "collector_success", "filesystem"))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// grepLines keeps the lines of s that hold any of subs.
func grepLines(s string, subs ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
