package gatewaysim

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStandsAlone: the simulator is what the exporter and the remediator are
// tested against, so it must not build their code; a bug it shares with them
// would pass unseen.
func TestStandsAlone(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	const module = "github.com/clawwatch/clawwatch/"
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}",
		module+"internal/gatewaysim/...", module+"cmd/openclaw-gatewaysim").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || !strings.Contains(string(out), module+"internal/gatewaysim\n") {
		t.Fatalf("go list -deps listed no simulator package:\n%s", out)
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, module+"exporter") || strings.HasPrefix(dep, module+"remediator") {
			t.Errorf("the simulator depends on product code: %s", dep)
		}
	}
}
