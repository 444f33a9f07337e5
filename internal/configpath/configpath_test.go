package configpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ p, dir, want string }{
		{"", "/etc/x", ""},
		{"~", "/etc/x", "/home/u"},
		{"~/a/b", "/etc/x", "/home/u/a/b"},
		{"/abs", "/etc/x", "/abs"},
		{"rel", "/etc/x", "/etc/x/rel"},
		{"rel", "", "rel"},
		{"~user/x", "/etc/x", "/etc/x/~user/x"},
	} {
		if got := Resolve(tc.p, tc.dir, "/home/u"); got != tc.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", tc.p, tc.dir, got, tc.want)
		}
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if s, err := ReadSecret(write("ok", "  s3cret\n")); err != nil || s != "s3cret" {
		t.Errorf("ReadSecret = %q, %v; want s3cret", s, err)
	}
	for name, content := range map[string]string{
		"empty":     " \n",
		"two-lines": "a\nb\n",
		"large":     strings.Repeat("x", maxSecret+1),
	} {
		if s, err := ReadSecret(write(name, content)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: ReadSecret = %q, %v; want an error naming the file", name, s, err)
		}
	}
	if _, err := ReadSecret(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
