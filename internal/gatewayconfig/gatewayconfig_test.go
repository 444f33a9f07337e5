package gatewayconfig

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gw.token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c               Connection
		url, rpc, state string
		port            int
		token           string
	}{
		{c: Default(), url: DefaultURL, rpc: "127.0.0.1:18789", state: "/home/u/.openclaw", port: 18789},
		{c: Connection{URL: "https://gw.lab/", StateDir: "state", TokenFile: "gw.token"},
			url: "https://gw.lab", rpc: "gw.lab:443", state: filepath.Join(dir, "state"), port: 443, token: "s3cret"},
		{c: Connection{URL: "http://[::1]:18800", StateDir: "/s"}, url: "http://[::1]:18800", rpc: "[::1]:18800", state: "/s", port: 18800},
		{c: Connection{URL: "http://gw", StateDir: "~"}, url: "http://gw", rpc: "gw:80", state: "/home/u", port: 80},
	} {
		c := tc.c
		if err := c.Resolve(dir, "/home/u"); err != nil {
			t.Fatalf("%+v: %v", tc.c, err)
		}
		if c.URL != tc.url || c.RPCAddr() != tc.rpc || c.Port() != tc.port || c.StateDir != tc.state || c.Token() != tc.token {
			t.Errorf("%+v resolved to %+v (rpc %s, port %d, token %q)", tc.c, c, c.RPCAddr(), c.Port(), c.Token())
		}
	}
}

func TestResolveErrors(t *testing.T) {
	for _, tc := range []struct {
		c    Connection
		want string
	}{
		{Connection{URL: "ftp://x"}, `url: "ftp://x" is not an http(s) URL`},
		{Connection{URL: "/just/a/path"}, "is not an http(s) URL"},
		{Connection{URL: ""}, `url: "" is not an http(s) URL`},
		{Connection{URL: DefaultURL}, "state_dir: empty"},
		{Connection{URL: DefaultURL, StateDir: "s", TokenFile: "/nonexistent/gw.token"}, "token_file: open /nonexistent/gw.token"},
		{Connection{URL: DefaultURL, StateDir: "s", UID: ptr(-1)}, "uid: -1 is out of range [0, 4294967294]"},
		{Connection{URL: DefaultURL, StateDir: "s", UID: ptr(1 << 40)}, "uid: 1099511627776 is out of range [0, 4294967294]"},
		{Connection{URL: DefaultURL, StateDir: "s", UID: ptr(1<<32 - 1)}, "uid: 4294967295 is out of range"},
		{Connection{URL: "http://127.0.0.1:0", StateDir: "s"}, `url: "http://127.0.0.1:0": port 0 is out of range [1, 65535]`},
		{Connection{URL: "http://127.0.0.1:99999", StateDir: "s"}, `url: "http://127.0.0.1:99999": port 99999 is out of range [1, 65535]`},
	} {
		c := tc.c
		if err := c.Resolve(t.TempDir(), "/home/u"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
	}
}

func ptr(i int) *int { return &i }

// TestLockDirsOfAnotherUser: a remediator running as root beside a gateway
// container running as 65534 looks in the gateway's openclaw-65534 first,
// then in its own.
func TestLockDirsOfAnotherUser(t *testing.T) {
	c := Connection{URL: DefaultURL, StateDir: "/var/lib/openclaw", UID: ptr(65534)}
	if err := c.Resolve(t.TempDir(), "/home/u"); err != nil {
		t.Fatal(err)
	}
	dirs := c.LockDirs()
	own := "/var/lib/openclaw/tmp/openclaw-" + strconv.Itoa(os.Getuid())
	if len(dirs) < 3 || dirs[0] != "/var/lib/openclaw/tmp/openclaw-65534" || !slices.Contains(dirs, own) {
		t.Fatalf("lock dirs %v, want openclaw-65534 first and %s too", dirs, own)
	}
	c.UID = nil
	if dirs := c.LockDirs(); slices.Contains(dirs, "/var/lib/openclaw/tmp/openclaw-65534") && os.Getuid() != 65534 {
		t.Fatalf("without uid: %v", dirs)
	}
}
