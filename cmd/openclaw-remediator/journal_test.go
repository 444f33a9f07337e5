package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// TestDamagedJournal: a journal written by the remediator, truncated to
// half, stops the next start with an error naming the file and the way
// back, not a panic, and without a write; journal check lists the damage
// and journal salvage copies what is readable into a journal that starts.
func TestDamagedJournal(t *testing.T) {
	dir, cfg, tokenFile, _ := setup(t)
	bin := testbin.Command(t, "openclaw-remediator")
	path := filepath.Join(dir, "journal.db")
	p := startRemediator(t, cfg, tokenFile, simtest.FreePort(t))
	resp, err := http.Get(p.url + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "Ready\n" {
		t.Fatalf("/-/ready: %d %q", resp.StatusCode, body)
	}
	const n = 120
	for i := range n {
		if code, out := p.do(t, http.MethodPost, "/api/v1/alerts", remtest.Alert(t, "Flood", fmt.Sprintf("fp%04d", i), "cleanup")); code != http.StatusOK {
			t.Fatalf("webhook %d: %d %s", i, code, out)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	out, err := exec.Command(bin, "journal", "check", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") || !strings.Contains(string(out), fmt.Sprintf("incidents  %d", n)) {
		t.Fatalf("journal check of a sound journal: %v\n%s", err, out)
	}

	// Half the pages in use: bbolt grows the file ahead of them, so half
	// the file may hold them all.
	var size, pages, pageSize int
	if _, err := fmt.Sscanf(string(out[strings.Index(string(out), "OK: "):]), "OK: %d bytes, %d pages of %d bytes", &size, &pages, &pageSize); err != nil {
		t.Fatalf("journal check's summary: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = data[:pages*pageSize/2]
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := sha256.Sum256(data)
	// A journal taken for sound would start serving: bounded, so that
	// the test fails instead of waiting for it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err = exec.CommandContext(ctx, bin, "--config.file", cfg, "--web.bearer-token-file", tokenFile, "--web.listen-address", "127.0.0.1:0").CombinedOutput()
	if simtest.ExitCode(err) != 1 || bytes.Contains(out, []byte("panic")) || bytes.Contains(out, []byte("goroutine ")) ||
		!strings.Contains(string(out), path) || !strings.Contains(string(out), "journal salvage") {
		t.Fatalf("start on a truncated journal: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(path); sha256.Sum256(after) != before {
		t.Fatal("the start wrote to the damaged journal")
	}

	out, err = exec.Command(bin, "journal", "check", path).CombinedOutput()
	if simtest.ExitCode(err) != 1 || !strings.Contains(string(out), "truncated") {
		t.Fatalf("journal check of a truncated journal: %v\n%s", err, out)
	}
	salvaged := filepath.Join(dir, "salvaged.db")
	out, err = exec.Command(bin, "journal", "salvage", path, salvaged).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "COPIED") {
		t.Fatalf("journal salvage: %v\n%s", err, out)
	}
	t.Logf("salvage:\n%s", out)
	if after, _ := os.ReadFile(path); sha256.Sum256(after) != before {
		t.Fatal("salvage wrote to the damaged journal")
	}
	if out, err := exec.Command(bin, "journal", "salvage", path, salvaged).CombinedOutput(); simtest.ExitCode(err) != 1 || !strings.Contains(string(out), "exists") {
		t.Fatalf("salvage over an existing file: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "journal", "check", salvaged).CombinedOutput()
	if err != nil {
		t.Fatalf("journal check of the salvaged journal: %v\n%s", err, out)
	}
	// The salvaged journal takes the damaged one's place and starts.
	if err := os.Rename(salvaged, path); err != nil {
		t.Fatal(err)
	}
	startRemediator(t, cfg, tokenFile, simtest.FreePort(t))
}
