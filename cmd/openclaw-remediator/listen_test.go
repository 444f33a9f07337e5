package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// The remediator acts on what reaches its listener: by default only the
// host itself does.
func TestListensOnLoopbackByDefault(t *testing.T) {
	out, err := exec.Command(testbin.Command(t, "openclaw-remediator"), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--web.listen-address=127.0.0.1:9788") {
		t.Errorf("serve --help does not show the loopback default for --web.listen-address:\n%s", out)
	}
}
