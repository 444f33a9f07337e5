package remediator_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// foreignServerHelper is a program that has nothing to do with OpenClaw
// but holds the gateway's port: it answers every request with garbage.
func foreignServerHelper(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("http-server PORT")
	}
	return http.ListenAndServe("127.0.0.1:"+args[0], http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "not a gateway")
	}))
}

// TestRestartRefusesAForeignListener is the attack of issue 13: the port is
// held by an unrelated program, which looks like a hung gateway from outside.
// The restart must refuse to signal it, say why, and leave it running.
func TestRestartRefusesAForeignListener(t *testing.T) {
	port := simtest.FreePort(t)
	argv := helperArgv(t, "http-server", strconv.Itoa(port))
	srv := exec.Command(argv[0], argv[1:]...)
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a group of its own, as a daemon has
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = srv.Wait(); close(exited) }()
	t.Cleanup(func() { srv.Process.Kill(); <-exited })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	answers := func() error {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	simtest.Eventually(t, 30*time.Second, answers)
	self, err := openclaw.DefaultProcFS.Identify(srv.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}

	h := harness.New(t, remtest.LimitsForTests+fmt.Sprintf(`
targets:
  - name: default
    url: %s
    state_dir: %s
    stop_timeout: 1s
    verify: {timeout: 2s, interval: 100ms}
    driver: {kind: process, start: [/bin/true]}
`, url, t.TempDir()))
	code, ack := h.Post(remtest.Fixture(t, "firing_gateway_hung.json"))
	if code != http.StatusOK || ack.New != 1 {
		t.Fatalf("webhook: %d %+v", code, ack)
	}
	inc := h.WaitIncident(hungID, 60*time.Second, remtest.Done)
	if len(inc.Actions) == 0 {
		t.Fatalf("no action ran: %+v", inc)
	}
	for _, a := range inc.Actions {
		if a.Result != journal.ResultFailure || !strings.Contains(a.Error, "refusing to signal") ||
			!strings.Contains(a.Error, fmt.Sprintf("pid %d", self.PID)) || !strings.Contains(a.Error, "not the gateway") {
			t.Errorf("attempt %d: %s, error %q; want a refusal naming pid %d", a.Attempt, a.Result, a.Error, self.PID)
		}
	}
	select {
	case <-exited:
		t.Fatalf("the unrelated server was stopped: %v", waitErr)
	default:
	}
	if now, err := openclaw.DefaultProcFS.Identify(self.PID); err != nil || now != self {
		t.Fatalf("the unrelated server is gone: %+v %v", now, err)
	}
	if err := answers(); err != nil {
		t.Errorf("the unrelated server no longer answers: %v", err)
	}
}
