//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
)

// offlineEnv marks the test binary that runs inside offline's namespace.
const offlineEnv = "CLAWWATCH_E2E_OFFLINE"

// resolver is the only nameserver the tests' processes see: loopback,
// where nothing answers.
const resolver = "127.0.0.1"

// TestMain runs the tests in a mount namespace of their own whose
// /etc/resolv.conf names only loopback, so every process they start (real
// gateways, the remediator and the gateways it restarts) resolves no
// outside name through the machine's resolver: nothing they do sends a DNS
// query off the machine. The real gateway looks up its hosted plugin feed
// about 15 s after ready, which no setting turns off (docs/openclaw.md).
// It needs root, as the rest of these tests; without it they run as they
// are, and under CI=true that fails.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(offlineEnv) != "":
		undo, err := bindResolvConf()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(2)
		}
		code := m.Run()
		undo()
		os.Exit(code)
	case os.Geteuid() == 0:
		os.Exit(offline())
	case os.Getenv("CI") == "true":
		fmt.Fprintln(os.Stderr, "e2e: the tests' own mount namespace, which keeps DNS on loopback, needs root")
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "e2e: not root, so the tests' processes use the machine's resolver")
		os.Exit(m.Run())
	}
}

// offline runs this test binary again, with the same arguments and
// streams, in a new mount namespace (Go makes its mounts private), and
// returns its exit status. It dies with this process; a signal to this
// process is passed on.
func offline() int {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Env = append(os.Environ(), offlineEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: run the tests in their own mount namespace:", err)
		return 2
	}
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	return 0
}

// bindResolvConf mounts a resolv.conf naming only resolver over
// /etc/resolv.conf, in this process's own mount namespace.
func bindResolvConf() (undo func(), err error) {
	dir, err := os.MkdirTemp("", "e2e-resolv-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver "+resolver+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := syscall.Mount(conf, "/etc/resolv.conf", "", syscall.MS_BIND, ""); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bind %s over /etc/resolv.conf: %w", conf, err)
	}
	return func() {
		_ = syscall.Unmount("/etc/resolv.conf", syscall.MNT_DETACH)
		os.RemoveAll(dir)
	}, nil
}
