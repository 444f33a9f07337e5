package deploy

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"fmt"
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
	"sync"
	"testing"
	"time"
)

// TestRelease runs `make release` twice (static Linux amd64 and arm64, the
// NVML variant for amd64, macOS amd64 and arm64, Windows amd64) and checks
// that the two are byte-identical, the archives (node_exporter's layout; a
// .zip for Windows) and their checksums, that the static Linux binaries have
// no program interpreter, that the macOS and Windows ones are Mach-O and PE
// executables for their architecture (.exe on Windows), and that version,
// revision, branch and build tags are stamped into --version and
// *_build_info.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command")
	}
	if runtime.GOOS+"/"+runtime.GOARCH != "linux/amd64" {
		t.Skip("the NVML variant is built with cgo for linux/amd64, this host's platform")
	}
	data, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(data))
	// The two releases run side by side: most of their time is linking and
	// compressing, one process each.
	dists := [2]string{t.TempDir(), t.TempDir()}
	var (
		outs [2][]byte
		errs [2]error
		wg   sync.WaitGroup
	)
	for i, dist := range dists {
		wg.Go(func() {
			outs[i], errs[i] = exec.Command("make", "-C", "..", "--no-print-directory", "release", "RELEASE_DIR="+dist,
				"RELEASE_PLATFORMS=linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64", "RELEASE_NVML_PLATFORMS=linux/amd64").CombinedOutput()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("make release: %v\n%s", err, outs[i])
		}
	}
	dist, again := dists[0], dists[1]
	sums, err := os.ReadFile(filepath.Join(dist, "sha256sums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if sums2, _ := os.ReadFile(filepath.Join(again, "sha256sums.txt")); !bytes.Equal(sums, sums2) {
		t.Errorf("two releases of one checkout differ:\n%s\n%s", sums, sums2)
	}

	epoch := commitTime(t)
	revision, branch := "unknown", "unknown"
	if r, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		revision = strings.TrimSpace(string(r))
		b, _ := exec.Command("git", "rev-parse", "--abbrev-ref", "HEAD").Output()
		branch = strings.TrimSpace(string(b))
	}
	var wantSums []string
	for _, c := range []struct {
		platform, suffix, tags string
		static                 bool
	}{
		{"linux-amd64", "", "netgo,osusergo", true},
		{"linux-arm64", "", "netgo,osusergo", true},
		{"linux-amd64", "-nvml", "cgo,netgo,osusergo", false},
		{"darwin-amd64", "", "osusergo", true},
		{"darwin-arm64", "", "osusergo", true},
		{"windows-amd64", "", "netgo,osusergo", true},
	} {
		name := "clawwatch-" + version + "." + c.platform + c.suffix
		goos, goarch, _ := strings.Cut(c.platform, "-")
		ext, exe := ".tar.gz", ""
		if goos == "windows" {
			ext, exe = ".zip", ".exe"
		}
		archive := filepath.Join(dist, name+ext)
		f, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(f)
		wantSums = append(wantSums, hex.EncodeToString(sum[:])+"  "+name+ext)

		bin := t.TempDir()
		var got []string
		if ext == ".zip" {
			got = unzip(t, archive, bin, epoch)
		} else {
			got = untar(t, archive, bin, epoch)
		}
		want := []string{name + "/CHANGELOG.md", name + "/LICENSE", name + "/NOTICE", name + "/README.md", name + "/mixin/alerts.yaml", name + "/mixin/rules.yaml"}
		for _, cmd := range []string{"openclaw-exporter", "openclaw-gatewaysim", "openclaw-remediator"} {
			want = append(want, name+"/"+cmd+exe)
			path := filepath.Join(bin, name, cmd+exe)
			if goos != "linux" {
				if err := executableFor(path, goos, goarch); err != nil {
					t.Errorf("%s/%s: %v", name, cmd+exe, err)
				}
				continue
			}
			interp, err := interpreter(path)
			if err != nil {
				t.Fatal(err)
			}
			// Only the exporter links cgo (NVML) in the NVML variant.
			if dynamic := !c.static && cmd == "openclaw-exporter"; dynamic != (interp != "") {
				t.Errorf("%s/%s: program interpreter %q, want a dynamic executable: %v", name, cmd, interp, dynamic)
			}
		}
		globs := []string{"../dashboards/*.json"}
		if goos == "linux" {
			globs = append(globs, "systemd/*") // units for Linux only
		}
		for _, glob := range globs {
			files, _ := filepath.Glob(glob)
			for _, f := range files {
				want = append(want, name+"/"+filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f))
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if c.platform != "linux-amd64" {
			continue // not runnable here
		}

		exporter := filepath.Join(bin, name, "openclaw-exporter")
		v, err := exec.Command(exporter, "--version").CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		date := time.Unix(epoch, 0).UTC().Format("20060102-15:04:05")
		if head := "openclaw-exporter, version " + version + " (branch: " + branch + ", revision: " + revision + ")"; !strings.HasPrefix(string(v), head) ||
			!strings.Contains(string(v), "build date:       "+date) || !strings.Contains(string(v), "tags:             "+c.tags) {
			t.Errorf("--version:\n%s\nwant it to start with %q and carry build date %s (the commit's) and tags %s", v, head, date, c.tags)
		}
		metrics := scrape(t, exporter)
		wantInfo := regexp.MustCompile(`(?m)^openclaw_exporter_build_info\{.*branch="` + regexp.QuoteMeta(branch) +
			`".*revision="` + regexp.QuoteMeta(revision) + `",tags="` + regexp.QuoteMeta(c.tags) + `",version="` + regexp.QuoteMeta(version) + `"\} 1$`)
		if !wantInfo.MatchString(metrics) {
			t.Errorf("%s: no openclaw_exporter_build_info with version %s, revision %s, branch %s, tags %s in\n%s", name, version, revision, branch, c.tags,
				regexp.MustCompile(`(?m)^openclaw_exporter_build_info.*$`).FindString(metrics))
		}
	}
	gotSums := strings.Split(strings.TrimSpace(string(sums)), "\n")
	slices.Sort(gotSums)
	slices.Sort(wantSums)
	if got := strings.Join(gotSums, "\n"); got != strings.Join(wantSums, "\n") {
		t.Errorf("sha256sums.txt:\n%s\nwant:\n%s", got, strings.Join(wantSums, "\n"))
	}

	// The release notes are the CHANGELOG's section for this version.
	notes, err := os.ReadFile(filepath.Join(dist, "RELEASE_NOTES.md"))
	if err != nil {
		t.Fatal(err)
	}
	changelog, err := os.ReadFile("../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?ms)^## \[` + regexp.QuoteMeta(version) + `\][^\n]*\n(.*?)(?:^## \[|\z)`).FindSubmatch(changelog)
	if section == nil || len(bytes.TrimSpace(section[1])) == 0 || !bytes.Equal(bytes.TrimSpace(notes), bytes.TrimSpace(section[1])) {
		t.Errorf("RELEASE_NOTES.md is not CHANGELOG.md's section for %s:\n%s", version, notes)
	}
}

// commitTime is the time make release stamps when SOURCE_DATE_EPOCH is unset.
func commitTime(t *testing.T) int64 {
	t.Helper()
	out, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
	if err != nil {
		t.Fatalf("git log: %v", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// interpreter returns an ELF executable's program interpreter (its dynamic
// loader), "" for a static one.
func interpreter(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			return strings.TrimRight(string(b), "\x00"), err
		}
	}
	return "", nil
}

// executableFor checks that path is an executable for goos/goarch: Mach-O
// on macOS, PE on Windows.
func executableFor(path, goos, goarch string) error {
	switch goos {
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			return fmt.Errorf("not a Mach-O file: %w", err)
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Type != macho.TypeExec || f.Cpu != want {
			return fmt.Errorf("Mach-O type %v for %v, want an executable for %v", f.Type, f.Cpu, want)
		}
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			return fmt.Errorf("not a PE file: %w", err)
		}
		defer f.Close()
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
			return fmt.Errorf("PE machine %#x, characteristics %#x, want an amd64 executable", f.Machine, f.Characteristics)
		}
	default:
		return fmt.Errorf("no check for %s", goos)
	}
	return nil
}

// unzip extracts a .zip into dir and returns the files' names; every entry
// must be dated mtime, to the two seconds of a zip's DOS time.
func unzip(t *testing.T, path, dir string, mtime int64) []string {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		if d := f.Modified.Unix() - mtime; d < -1 || d > 1 {
			t.Errorf("%s: dated %s, want the commit's time %s", f.Name, f.Modified.UTC(), time.Unix(mtime, 0).UTC())
		}
		if f.FileInfo().IsDir() {
			continue
		}
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, rc); err != nil {
			t.Fatal(err)
		}
		out.Close()
		rc.Close()
	}
	slices.Sort(names)
	return names
}

// untar extracts a .tar.gz into dir and returns the regular files' names;
// every entry must be owned by 0:0 and dated mtime.
func untar(t *testing.T, path, dir string, mtime int64) []string {
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
		if h.ModTime.Unix() != mtime {
			t.Errorf("%s: dated %s, want the commit's time %s", h.Name, h.ModTime.UTC(), time.Unix(mtime, 0).UTC())
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

// TestNoticeNamesEveryModule: NOTICE names every third-party module linked
// into the commands, and none that is not.
func TestNoticeNamesEveryModule(t *testing.T) {
	// Every platform a release is built for: some modules are linked
	// into one platform's binaries only (WMI on Windows).
	linked := map[string]bool{}
	for _, env := range [][]string{nil, {"GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0"}, {"GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0"}} {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}", "../cmd/...")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", env, err)
		}
		for _, m := range strings.Fields(string(out)) {
			linked[m] = true
		}
	}
	notice, err := os.ReadFile("../NOTICE")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, line := range strings.Split(string(notice), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.Contains(f[0], ".") && strings.HasPrefix(line, "  ") {
			named[f[0]] = true
		}
	}
	for m := range linked {
		if !named[m] {
			t.Errorf("NOTICE does not name %s, linked into the commands: add it with its license", m)
		}
	}
	for m := range named {
		if !linked[m] {
			t.Errorf("NOTICE names %s, which no command links any more", m)
		}
	}
	if len(linked) < 10 {
		t.Fatalf("go list found only %d modules", len(linked))
	}
}
