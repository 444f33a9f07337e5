package driver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// The process driver's SIGTERM with a completion in flight and a grace
// much shorter than it: the simulator, like the real gateway, says it
// drains, and the driver waits for it instead of killing it.
func TestProcessStopWaitsForTheDrain(t *testing.T) {
	port, ctl := simtest.FreePort(t), simtest.FreePort(t)
	ctlAddr := "127.0.0.1:" + strconv.Itoa(ctl)
	p := &Process{Procs: openclaw.DefaultProcFS, Port: port, LockDirs: []string{t.TempDir()},
		Argv: []string{simtest.Binary(t), "--port", strconv.Itoa(port), "--control.listen-address", ctlAddr,
			"--state-dir", t.TempDir(), "--log-dir", t.TempDir()}}
	if _, err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { simtest.KillListener(port) })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	simtest.Eventually(t, 30*time.Second, func() error {
		resp, err := http.Post("http://"+ctlAddr+"/faults", "application/json", strings.NewReader(`{"kind":"slow","latency":"2s"}`))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("POST /faults: %d", resp.StatusCode)
		}
		return nil
	})
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"sim","messages":[{"role":"user","content":"What is 2+2?"}]}`))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	simtest.Eventually(t, 10*time.Second, func() error {
		resp, err := http.Get("http://" + ctlAddr + "/state")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil || !strings.Contains(string(body), `"active_requests":1`) {
			return fmt.Errorf("state: %s %v", body, err)
		}
		return nil
	})
	out, err := p.Stop(context.Background(), 100*time.Millisecond)
	if err != nil || !strings.Contains(out, "draining its active work past the 100ms grace") || strings.Contains(out, "killed") {
		t.Errorf("Stop = %q, %v", out, err)
	}
	if code := <-done; code != http.StatusOK {
		t.Errorf("the completion in flight ended %d", code)
	}
}
