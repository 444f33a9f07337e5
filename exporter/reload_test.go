package exporter_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
)

// reloader starts an exporter on a one-gateway configuration file and
// returns the file and a reloader for it.
func reloader(t *testing.T, reg *prometheus.Registry) (string, *exporter.Reloader) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exporter.yml")
	writeFile(t, path, "gateways:\n  - name: first\n    url: http://127.0.0.1:1\n")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := exporter.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exp.Close)
	reg.MustRegister(exp)
	return path, exporter.NewReloader(path, exp, reg, slog.New(slog.DiscardHandler))
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	reg := prometheus.NewRegistry()
	path, r := reloader(t, reg)
	write := func(s string) { writeFile(t, path, s) }
	gateways := func() map[string]bool {
		out := map[string]bool{}
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "openclaw_gateway_up" {
				for _, m := range mf.GetMetric() {
					out[m.GetLabel()[0].GetValue()] = true
				}
			}
		}
		return out
	}

	write("gateways:\n  - name: second\n    url: http://127.0.0.1:2\n")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != 200 || !gateways()["second"] || gateways()["first"] {
		t.Fatalf("good reload: %d %s, gateways %v", rec.Code, rec.Body, gateways())
	}

	write("gateways:\n  - name: third\n    nonsense: true\n")
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != 500 || !gateways()["second"] {
		t.Fatalf("bad reload: %d %s, gateways %v; want 500 and the old config live", rec.Code, rec.Body, gateways())
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "openclaw_exporter_config_last_reload_successful" && mf.GetMetric()[0].GetGauge().GetValue() != 0 {
			t.Error("last_reload_successful is not 0 after a bad reload")
		}
	}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/reload", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload = %d", rec.Code)
	}
}

// Without --web.enable-lifecycle, POST /-/reload is refused and the
// configuration file is not read.
func TestReloadNeedsLifecycle(t *testing.T) {
	path, r := reloader(t, prometheus.NewRegistry())
	writeFile(t, path, "gateways: [not, valid\n")
	rec := httptest.NewRecorder()
	r.Handler(false).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "--web.enable-lifecycle") {
		t.Errorf("lifecycle off: %d %q; want 403 naming the flag", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	r.Handler(true).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("lifecycle on, bad file: %d %q; want 500", rec.Code, rec.Body)
	}
}
