package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// TestVersionPrintsTheBuild: --version prints the simulator's build, as every
// clawwatch command's does, and exits 0 without starting anything.
func TestVersionPrintsTheBuild(t *testing.T) {
	out, err := exec.Command(testbin.Command(t, "openclaw-gatewaysim"), "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "openclaw-gatewaysim, version ") || !strings.Contains(string(out), "go version:") {
		t.Fatalf("--version: %v\n%s", err, out)
	}
}

func TestGatewayVersionArgs(t *testing.T) {
	for _, c := range []struct {
		in, want   []string
		deprecated bool
	}{
		{[]string{"--version"}, []string{"--version"}, false},
		{[]string{"--port", "1", "--version"}, []string{"--port", "1", "--version"}, false},
		{[]string{"--version", "--port", "1"}, []string{"--version", "--port", "1"}, false},
		{[]string{"--gateway-version", "2026.9.5"}, []string{"--gateway-version", "2026.9.5"}, false},
		{[]string{"--replace", "--version", "{version}", "--detach"}, []string{"--replace", "--gateway-version", "{version}", "--detach"}, true},
		{[]string{"--version=2026.9.5"}, []string{"--gateway-version=2026.9.5"}, true},
	} {
		got, deprecated := gatewayVersionArgs(c.in)
		if !slices.Equal(got, c.want) || deprecated != c.deprecated {
			t.Errorf("gatewayVersionArgs(%q) = %q, %v; want %q, %v", c.in, got, deprecated, c.want, c.deprecated)
		}
	}
}
