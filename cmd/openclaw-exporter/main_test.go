package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// openMetricsAccept is the Accept header Prometheus scrapes with.
const openMetricsAccept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"

// TestSelfMonitoring runs the exporter and scrapes it as Prometheus does:
// it negotiates OpenMetrics, answers plain text to a client that asks for
// nothing, and exposes its own Go runtime and process series.
func TestSelfMonitoring(t *testing.T) {
	// A gateway on a port nobody listens on: the collectors fail, the
	// exporter's own series do not.
	addr := startExporter(t, "")
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

// TestMemoryLimit: --runtime.memory-limit sets the Go runtime's soft memory
// limit (seen in its own go_gc_gomemlimit_bytes), none by default, and
// GOMEMLIMIT in the environment wins over the flag.
func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want float64
	}{
		{"default", "", nil, math.MaxInt64},
		{"flag", "", []string{"--runtime.memory-limit=21MiB"}, 21 << 20},
		{"environment", "GOMEMLIMIT=30MiB", []string{"--runtime.memory-limit=21MiB"}, 30 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := serveOnce(t, tc.env, tc.args...)
			got := "absent"
			for line := range strings.SplitSeq(body, "\n") {
				if v, ok := strings.CutPrefix(line, "go_gc_gomemlimit_bytes "); ok {
					got = v
				}
			}
			if v, err := strconv.ParseFloat(got, 64); err != nil || v != tc.want {
				t.Errorf("go_gc_gomemlimit_bytes = %s, want %.0f", got, tc.want)
			}
		})
	}
}

func TestMemoryLimitChoice(t *testing.T) {
	for _, tc := range []struct {
		flag      int64
		env       string
		wantLimit int64
		wantFrom  string
	}{
		{20 << 20, "", 20 << 20, "flag"},
		{0, "", 0, "off"},
		{20 << 20, "off", 0, "GOMEMLIMIT"},
		{0, "64MiB", 0, "GOMEMLIMIT"},
	} {
		if limit, from := memoryLimit(tc.flag, tc.env); limit != tc.wantLimit || from != tc.wantFrom {
			t.Errorf("memoryLimit(%d, %q) = %d, %q; want %d, %q", tc.flag, tc.env, limit, from, tc.wantLimit, tc.wantFrom)
		}
	}
}

// startExporter starts the exporter for an absent gateway (a port nobody
// listens on) with env added to the environment and args, and returns its
// listen address; its output is logged if the test fails.
func startExporter(t *testing.T, env string, args ...string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "exporter.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "gateways:\n  - name: nowhere\n    url: http://127.0.0.1:%d\n", simtest.FreePort(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", simtest.FreePort(t))
	cmd := exec.Command(testbin.Command(t, "openclaw-exporter"), append([]string{"--config.file=" + cfg, "--no-collector.gpu", "--web.listen-address=" + addr}, args...)...)
	cmd.Env = os.Environ()
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
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
	return addr
}

// serveOnce starts the exporter for an absent gateway with env added to the
// environment and args, and returns its first successful scrape.
func serveOnce(t *testing.T, env string, args ...string) string {
	t.Helper()
	addr := startExporter(t, env, args...)
	var body string
	simtest.Eventually(t, 30*time.Second, func() error {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", resp.Status, data)
		}
		body = string(data)
		return nil
	})
	return body
}
