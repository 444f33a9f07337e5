package openclaw

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const realBuildID = "2026.9.6-release-eb377ac59e6c-2026-09-23T16-33-12.144Z-314f5d487e3c5ae6aed7f2edbb68f93f274b3d7ca0e9fdca8f6e8f654f92c54c"

func TestParseBuildID(t *testing.T) {
	cases := []struct{ id, version string }{
		{realBuildID, "2026.9.6"},
		{"2026.10.12-beta.2-release-abc", "2026.10.12-beta.2"},
		{"2026.9.6-sim-5d4d", "2026.9.6"},
		{"dev", ""},
		{"", ""},
	}
	for _, c := range cases {
		v, err := ParseBuildID(c.id)
		if v.Version != c.version || (err != nil) != (c.version == "") {
			t.Errorf("ParseBuildID(%q) = %+v, %v", c.id, v, err)
		}
	}
}

func TestVersionFromControlUI(t *testing.T) {
	page := `<!doctype html>
<html data-openclaw-control-ui-base-path="" data-openclaw-terminal-enabled="true" data-openclaw-control-ui-build-id="` + realBuildID + `" lang="en">`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Write([]byte(page + strings.Repeat(" ", 1<<20)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	v, err := VersionFromControlUI(context.Background(), srv.Client(), srv.URL)
	if err != nil || v.Version != "2026.9.6" || v.Build != realBuildID {
		t.Fatalf("VersionFromControlUI = %+v, %v", v, err)
	}
	if _, err := BuildIDFromPage(strings.NewReader("<html lang=en>")); err != ErrNoBuildID {
		t.Errorf("page without build id: err = %v", err)
	}
}

func TestVersionFromInstallThroughWorkerChild(t *testing.T) {
	install := filepath.Join(t.TempDir(), "lib", "node_modules", "openclaw")
	if err := os.MkdirAll(filepath.Join(install, "dist", "process", "spawn-broker"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(install, "package.json"), []byte(`{"name":"openclaw","version":"2026.8.30"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fp := newFakeProc(t)
	fp.Add(500, 1, "openclaw-gatewa", 'S', 1, "openclaw-gateway")
	fp.Add(501, 500, "MainThread", 'S', 2, "/usr/bin/node", filepath.Join(install, "dist", "process", "spawn-broker", "worker.js"))
	v, err := VersionFromInstall(fp.fs(), 500)
	if err != nil || v.Version != "2026.8.30" || v.Build != filepath.Join(install, "package.json") {
		t.Fatalf("VersionFromInstall = %+v, %v", v, err)
	}
	// The Control UI is unreachable: DiscoverVersion falls back to it.
	v, err = DiscoverVersion(context.Background(), http.DefaultClient, "http://127.0.0.1:1", fp.fs(), 500)
	if err != nil || v.Version != "2026.8.30" {
		t.Fatalf("DiscoverVersion = %+v, %v", v, err)
	}
	// A package.json that is not openclaw's, or whose version is more than
	// a version, is refused.
	for _, pkg := range []string{
		`{"name":"evil","version":"2026.8.30"}`,
		`{"name":"openclaw","version":"2026.8.30; rm -rf /"}`,
		`{"name":"openclaw","version":"2026.8.30/../../x"}`,
	} {
		if err := os.WriteFile(filepath.Join(install, "package.json"), []byte(pkg), 0o644); err != nil {
			t.Fatal(err)
		}
		if v, err := VersionFromInstall(fp.fs(), 500); err == nil {
			t.Errorf("accepted %s as %+v", pkg, v)
		}
	}
	if err := os.WriteFile(filepath.Join(install, "package.json"), []byte(`{"name":"openclaw","version":"v2026.9.1-beta.2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := VersionFromInstall(fp.fs(), 500); err != nil || v.Version != "2026.9.1-beta.2" {
		t.Errorf("a prerelease with a v: %+v, %v", v, err)
	}
}
