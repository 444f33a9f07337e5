package deploy

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRelease runs `make release` for this host's platform and checks the
// tarball (node_exporter's layout), its checksum, and that the version,
// revision and branch are stamped into --version and *_build_info.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command")
	}
	data, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(data))
	dist := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	out, err := exec.Command("make", "-C", "..", "--no-print-directory", "release",
		"RELEASE_DIR="+dist, "RELEASE_PLATFORMS="+platform).CombinedOutput()
	if err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	name := "clawwatch-" + version + "." + runtime.GOOS + "-" + runtime.GOARCH
	tarball := filepath.Join(dist, name+".tar.gz")

	sums, err := os.ReadFile(filepath.Join(dist, "sha256sums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.ReadFile(tarball)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(f)
	if want := hex.EncodeToString(sum[:]) + "  " + name + ".tar.gz\n"; string(sums) != want {
		t.Errorf("sha256sums.txt:\n%s\nwant:\n%s", sums, want)
	}

	bin := t.TempDir()
	got := untar(t, tarball, bin)
	want := []string{name + "/LICENSE", name + "/README.md", name + "/mixin/alerts.yaml", name + "/mixin/rules.yaml"}
	for _, cmd := range []string{"openclaw-exporter", "openclaw-gatewaysim", "openclaw-remediator"} {
		want = append(want, name+"/"+cmd)
	}
	for _, glob := range []string{"../dashboards/*.json", "systemd/*"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			want = append(want, name+"/"+filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f))
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("tarball holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	exporter := filepath.Join(bin, name, "openclaw-exporter")
	revision, branch := "unknown", "unknown"
	if r, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		revision = strings.TrimSpace(string(r))
		b, _ := exec.Command("git", "rev-parse", "--abbrev-ref", "HEAD").Output()
		branch = strings.TrimSpace(string(b))
	}
	v, err := exec.Command(exporter, "--version").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if head := "openclaw-exporter, version " + version + " (branch: " + branch + ", revision: " + revision + ")"; !strings.HasPrefix(string(v), head) ||
		!regexp.MustCompile(`build date:\s+\d{8}-\d\d:\d\d:\d\d`).Match(v) {
		t.Errorf("--version:\n%s\nwant it to start with %q and carry a build date", v, head)
	}
	if cgo, _ := exec.Command("go", "env", "CGO_ENABLED").Output(); strings.TrimSpace(string(cgo)) == "1" {
		info, err := exec.Command("go", "version", "-m", exporter).Output()
		if err != nil || !strings.Contains(string(info), "CGO_ENABLED=1") {
			t.Errorf("the host's own platform is built without cgo (no NVML): %v\n%s", err, info)
		}
	}

	metrics := scrape(t, exporter)
	wantInfo := regexp.MustCompile(`(?m)^openclaw_exporter_build_info\{.*branch="` + regexp.QuoteMeta(branch) +
		`".*revision="` + regexp.QuoteMeta(revision) + `".*version="` + regexp.QuoteMeta(version) + `"\} 1$`)
	if !wantInfo.MatchString(metrics) {
		t.Errorf("no openclaw_exporter_build_info with version %s, revision %s, branch %s in\n%s", version, revision, branch,
			regexp.MustCompile(`(?m)^openclaw_exporter_build_info.*$`).FindString(metrics))
	}
}

// untar extracts a .tar.gz into dir and returns the regular files' names.
func untar(t *testing.T, path, dir string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := tar.NewReader(z)
	var names []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want 0:0", h.Name, h.Uid, h.Gid)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		names = append(names, h.Name)
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, r); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
	slices.Sort(names)
	return names
}

// scrape starts the exporter on a free loopback port and returns its /metrics.
func scrape(t *testing.T, exporter string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(exporter, "--web.listen-address="+addr, "--no-collector.gpu")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return string(body)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not serve /metrics on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
