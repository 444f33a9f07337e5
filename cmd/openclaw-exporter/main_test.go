package main

import (
	"bytes"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testbin"
)

// TestStopsOnSignal: SIGTERM and SIGINT stop a serving exporter cleanly, even
// when it was started with SIGINT ignored, as a shell does for a background
// job (`make demo &`) — the exporter used to survive that.
func TestStopsOnSignal(t *testing.T) {
	exporter := testbin.Command(t, "openclaw-exporter")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			addr := freeAddr(t)
			var out bytes.Buffer
			// trap '' INT: the signal is ignored across exec, like a background job's.
			cmd := exec.Command("bash", "-c", `trap '' INT; exec "$0" "$@"`, exporter,
				"--web.listen-address="+addr, "--no-collector.gpu")
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			exited := false
			t.Cleanup(func() {
				if !exited {
					_ = cmd.Process.Kill()
					<-done
				}
			})
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := http.Get("http://" + addr + "/-/healthy")
				if err == nil {
					resp.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("exporter did not serve on %s: %v\n%s", addr, err, out.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				exited = true
				if err != nil {
					t.Fatalf("exit after %s: %v, want status 0\n%s", sig, err, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30s after %s\n%s", sig, out.String())
			}
			if !bytes.Contains(out.Bytes(), []byte("shutting down")) {
				t.Errorf("no shutdown logged:\n%s", out.String())
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
