package openclaw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
)

// BuildIDAttr is the attribute of the Control UI's <html> tag that carries the
// build id, "2026.9.6-release-eb377ac59e6c-2026-09-23T16-33-12.144Z-…".
const BuildIDAttr = "data-openclaw-control-ui-build-id"

// controlUIHead is how much of the Control UI page is read: the attribute
// sits on the <html> tag, in the first few hundred bytes.
const controlUIHead = 16 << 10

// ErrNoBuildID means the page carries no build id (not a Control UI page, or
// a build from before it had one).
var ErrNoBuildID = errors.New("no " + BuildIDAttr + " attribute")

var (
	buildIDRe = regexp.MustCompile(BuildIDAttr + `\s*=\s*["']([^"'<>]{1,256})["']`)
	// calendar version, optionally with a prerelease such as -beta.2
	versionRe = regexp.MustCompile(`^v?(\d{4}\.\d{1,2}\.\d{1,3}(?:-(?:alpha|beta|rc|pre)[0-9.]*)?)`)
)

// Version is what version discovery reports.
type Version struct {
	Version string // 2026.9.6
	Build   string // the full build id, or the package.json path it came from
}

// ParseBuildID splits a Control UI build id into the version and the whole id.
func ParseBuildID(id string) (Version, error) {
	m := versionRe.FindStringSubmatch(id)
	if m == nil {
		return Version{}, fmt.Errorf("build id %q does not start with a version", id)
	}
	return Version{Version: m[1], Build: id}, nil
}

// BuildIDFromPage extracts the build id from the head of a Control UI page.
func BuildIDFromPage(r io.Reader) (string, error) {
	head, err := io.ReadAll(io.LimitReader(r, controlUIHead))
	if err != nil {
		return "", fmt.Errorf("read control UI page: %w", err)
	}
	m := buildIDRe.FindSubmatch(head)
	if m == nil {
		return "", ErrNoBuildID
	}
	return string(m[1]), nil
}

// VersionFromControlUI asks the gateway at baseURL for its Control UI page.
func VersionFromControlUI(ctx context.Context, client *http.Client, baseURL string) (Version, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/", nil)
	if err != nil {
		return Version{}, fmt.Errorf("control UI request: %w", err)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	if err != nil {
		return Version{}, fmt.Errorf("get control UI: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, controlUIHead))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return Version{}, fmt.Errorf("get control UI: status %d", resp.StatusCode)
	}
	id, err := BuildIDFromPage(resp.Body)
	if err != nil {
		return Version{}, err
	}
	return ParseBuildID(id)
}

// VersionFromInstall finds the install of the gateway process through the
// command lines of its worker children (…/node_modules/openclaw/dist/…) and
// its own, and reads the version from that install's package.json.
func VersionFromInstall(procs ProcFS, pid int) (Version, error) {
	kids, err := procs.Children(pid)
	if err != nil {
		return Version{}, fmt.Errorf("list children of %d: %w", pid, err)
	}
	for _, p := range append(kids, pid) {
		argv, err := procs.Cmdline(p)
		if err != nil {
			continue
		}
		for _, arg := range argv {
			root, ok := installRoot(arg)
			if !ok {
				continue
			}
			v, err := readPackageVersion(filepath.Join(root, "package.json"))
			if err == nil {
				return v, nil
			}
		}
	}
	return Version{}, fmt.Errorf("no openclaw install found in the command lines of pid %d and its children", pid)
}

// installRoot returns ".../node_modules/openclaw" for a path inside it.
func installRoot(arg string) (string, bool) {
	const marker = "/node_modules/openclaw/"
	i := strings.LastIndex(filepath.ToSlash(arg), marker) // the same length: \ on Windows
	if i < 0 || !filepath.IsAbs(arg) {
		return "", false
	}
	return arg[:i+len(marker)-1], true
}

func readPackageVersion(path string) (Version, error) {
	data, err := readLimited(path, 1<<20)
	if err != nil {
		return Version{}, err
	}
	var pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&pkg); err != nil {
		return Version{}, fmt.Errorf("decode %s: %w", path, err)
	}
	// The whole field must be a version: it becomes a label and the
	// remediator's rollback target.
	m := versionRe.FindStringSubmatch(pkg.Version)
	if pkg.Name != "openclaw" || m == nil || m[0] != pkg.Version {
		return Version{}, fmt.Errorf("%s is not an openclaw package.json (name %q, version %.64q)", path, pkg.Name, pkg.Version)
	}
	return Version{Version: m[1], Build: path}, nil
}

// DiscoverVersion asks the Control UI first and falls back to the install
// found through the process (pid 0 skips the fallback).
func DiscoverVersion(ctx context.Context, client *http.Client, baseURL string, procs ProcFS, pid int) (Version, error) {
	v, uiErr := VersionFromControlUI(ctx, client, baseURL)
	if uiErr == nil {
		return v, nil
	}
	if pid <= 0 {
		return Version{}, uiErr
	}
	v, err := VersionFromInstall(procs, pid)
	if err != nil {
		return Version{}, errors.Join(uiErr, err)
	}
	return v, nil
}

// PackageVersion reads the version of the openclaw package installed in
// dir (…/node_modules/openclaw) from its package.json.
func PackageVersion(dir string) (Version, error) {
	return readPackageVersion(filepath.Join(dir, "package.json"))
}
