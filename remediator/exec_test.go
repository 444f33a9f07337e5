package remediator_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The exec action runs the operator's argv as a real child process. The
// alert reaches it only as sanitised ALERT_* variables, never as arguments;
// its output is kept in the journal, truncated; the result is success.
func TestExecRunsWithAlertEnvironment(t *testing.T) {
	record := filepath.Join(t.TempDir(), "exec.json")
	argv, _ := json.Marshal(helperArgv(t, "exec-env", record))
	h := harness.New(t, remtest.LimitsForTests+fmt.Sprintf(`
policies:
  - name: heap_snapshot
    matchers: ['alertname="OpenClawGatewayHung"']
    action: exec
    exec: %s
targets:`, argv)+remtest.CommandTarget(t, "default"))
	hostile := "$(touch /tmp/pwned); `id` ../../etc/passwd"
	body := remtest.WithLabels(t, remtest.Fixture(t, "firing_gateway_hung.json"), map[string]string{
		"runbook step": hostile,
		"ゲート":          "東京",
	})
	if code, ack := h.Post(body); code != 200 || ack.New != 1 {
		t.Fatalf("webhook: %d %+v", code, ack)
	}
	inc := h.WaitIncident(hungID, 30*time.Second, remtest.Done)
	if inc.Decision != journal.DecisionExecuted || inc.Action != "exec" || len(inc.Actions) != 1 {
		t.Fatalf("incident %+v", inc)
	}
	a := inc.Actions[0]
	if a.Result != journal.ResultSuccess || a.Error != "" || a.Verification != "" {
		t.Fatalf("action %s %q, verification %q", a.Result, a.Error, a.Verification)
	}
	// 40 KiB of output: the driver keeps the first 16 KiB, the journal the
	// last 8 KiB of that.
	if !strings.HasPrefix(a.Output, "…(truncated)…") || len(a.Output) > journal.MaxOutput+len("…(truncated)…") ||
		!strings.Contains(a.Output, "exec helper line") || !strings.HasSuffix(a.Output, "more bytes)") {
		t.Errorf("output not truncated as documented (%d bytes): %.120q … %q", len(a.Output), a.Output, a.Output[max(len(a.Output)-60, 0):])
	}

	var got struct {
		Args []string
		Env  []string
	}
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the exec program did not run: %v", err)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Args, []string{record}) {
		t.Errorf("argv %q: alert data must not reach the arguments", got.Args)
	}
	for _, want := range []string{
		"ALERT_ID=" + hungID,
		"ALERT_FINGERPRINT=6f8b1a2c3d4e5f60",
		"ALERT_STATUS=firing",
		"ALERT_STARTS_AT=2026-11-20T22:41:07Z",
		"ALERT_TARGET=default",
		"ALERT_LABEL_ALERTNAME=OpenClawGatewayHung",
		"ALERT_LABEL_REMEDIATION=restart",
		"ALERT_LABEL_RUNBOOK_STEP=" + hostile, // the value verbatim: data, never run
		"ALERT_LABEL____=東京",
		"ALERT_ANNOTATION_SUMMARY=OpenClaw gateway process is alive but does not answer.",
	} {
		if !slices.Contains(got.Env, want) {
			t.Errorf("environment lacks %q:\n%s", want, strings.Join(got.Env, "\n"))
		}
	}
	for _, e := range got.Env {
		name, _, _ := strings.Cut(e, "=")
		if strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			t.Errorf("unsanitised variable name %q", name)
		}
	}
	if got := h.Value("openclaw_remediator_actions_total", "action", "exec", "target", "default", "result", journal.ResultSuccess); got != 1 {
		t.Errorf("actions_total{exec,success} = %v", got)
	}
}
