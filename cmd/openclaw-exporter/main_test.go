package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/gatewaysim/simtest"
	"github.com/clawwatch/clawwatch/internal/testbin"
)

// openMetricsAccept is the Accept header Prometheus scrapes with.
const openMetricsAccept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"

// TestSelfMonitoring runs the exporter and scrapes it as Prometheus does:
// it negotiates OpenMetrics, answers plain text to a client that asks for
// nothing, and exposes its own Go runtime and process series.
func TestSelfMonitoring(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "exporter.yml")
	// A gateway on a port nobody listens on: the collectors fail, the
	// exporter's own series do not.
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "gateways:\n  - name: nowhere\n    url: http://127.0.0.1:%d\n", simtest.FreePort(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", simtest.FreePort(t))
	cmd := exec.Command(testbin.Command(t, "openclaw-exporter"), "--config.file="+cfg, "--no-collector.gpu", "--web.listen-address="+addr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("exporter output:\n%s", out.String())
		}
	})
	scrape := func(accept string) (string, string, error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", "", fmt.Errorf("%s: %s", resp.Status, body)
		}
		return resp.Header.Get("Content-Type"), string(body), err
	}

	var contentType, body string
	simtest.Eventually(t, 30*time.Second, func() (err error) {
		contentType, body, err = scrape(openMetricsAccept)
		return err
	})
	if !strings.HasPrefix(contentType, "application/openmetrics-text") || !strings.HasSuffix(body, "# EOF\n") {
		t.Errorf("asked for OpenMetrics, got %q ending %q", contentType, body[max(0, len(body)-20):])
	}
	for _, family := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "process_cpu_seconds", "openclaw_exporter_build_info"} {
		if !strings.Contains(body, "\n# TYPE "+family+" ") {
			t.Errorf("no %s family on /metrics", family)
		}
	}

	contentType, _, err := scrape("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(contentType, "text/plain") {
		t.Errorf("asked for nothing, got %q, want the text format", contentType)
	}
}
