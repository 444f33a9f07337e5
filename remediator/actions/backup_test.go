package actions

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSubstituteIsOnePass(t *testing.T) {
	got := Substitute([]string{"restore", "{archive}", "--target={target}"},
		map[string]string{"{archive}": "/b/{target}.tar.gz", "{target}": "/s"})
	want := []string{"restore", "/b/{target}.tar.gz", "--target=/s"}
	if !slices.Equal(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
}

func TestReportedArchive(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a-openclaw-backup.tar.gz")
	if err := os.WriteFile(good, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.tar.gz")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	report := func(path string, verified bool) string {
		return "OpenClaw 2026.9.6 — banner\n{\"a\": {\"nested\": 1}}\n{\n  \"archivePath\": \"" + path + "\",\n  \"verified\": " + map[bool]string{true: "true", false: "false"}[verified] + "\n}\nwarning: trailing"
	}
	if got, err := reportedArchive(report(good, true), dir); err != nil || got != good {
		t.Fatalf("good report: %q %v", got, err)
	}
	for name, c := range map[string]struct{ out, want string }{
		"not verified":   {report(good, false), "not verified"},
		"outside":        {report(outside, true), "not directly inside"},
		"traversal":      {report(dir+"/../"+filepath.Base(outside), true), "not directly inside"},
		"relative":       {report("a-openclaw-backup.tar.gz", true), "not directly inside"},
		"symlink":        {report(link, true), "not a regular file"},
		"missing":        {report(filepath.Join(dir, "gone.tar.gz"), true), "no such file"},
		"no json report": {"backup failed quietly", "no JSON report"},
	} {
		if _, err := reportedArchive(c.out, dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}

func TestPruneBackupsKeepsNewestAndNamed(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	var files []string
	for i := range 5 { // f0 oldest … f4 newest
		p := filepath.Join(dir, "f"+string(rune('0'+i))+".tar.gz")
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now, now.Add(time.Duration(i-5)*time.Hour)); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "old-link")); err != nil {
		t.Fatal(err)
	}
	// Keep 2 newest (f4, f3) besides f0, which the journal names.
	if err := pruneBackups(dir, 2, func(p string) bool { return p == files[0] }); err != nil {
		t.Fatal(err)
	}
	for i, p := range files {
		_, err := os.Stat(p)
		if kept := i == 0 || i >= 3; kept != (err == nil) {
			t.Errorf("f%d: kept=%v, want %v", i, err == nil, kept)
		}
	}
	for _, p := range []string{sub, target, filepath.Join(dir, "old-link")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
}

func TestRestoredStateChecksTheManifest(t *testing.T) {
	state := filepath.Join(t.TempDir(), ".openclaw")
	staging := func(t *testing.T, manifest string) string {
		t.Helper()
		s := t.TempDir()
		root := filepath.Join(s, "2026-backup")
		if err := os.MkdirAll(filepath.Join(root, "payload", "posix", state), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "manifest.json"), []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		return s
	}
	asset := func(kind, src, arc string) string {
		return `{"kind":"` + kind + `","sourcePath":"` + src + `","archivePath":"` + arc + `"}`
	}
	good := "2026-backup/payload/posix" + state
	s := staging(t, `{"assets":[`+asset("state", state, good)+`,`+asset("workspace", state+"/workspace", good+"/workspace")+`]}`)
	got, err := restoredState(s, state)
	if err != nil || got.path != filepath.Join(s, good) {
		t.Fatalf("good manifest: %v %v", got, err)
	}
	got.Close()
	for name, c := range map[string]struct{ manifest, want string }{
		"config outside the state dir": {`{"assets":[` + asset("state", state, good) + `,` + asset("config", "/etc/openclaw.json", "x") + `]}`, "outside the state dir"},
		"sibling with the same prefix": {`{"assets":[` + asset("state", state+"-other", good) + `]}`, "outside the state dir"},
		"archive path escapes":         {`{"assets":[` + asset("state", state, "../../etc") + `]}`, "not a path inside the archive"},
		"no state asset":               {`{"assets":[` + asset("workspace", state+"/workspace", good) + `]}`, "no asset is the state dir"},
		"not json":                     {`nope`, "manifest.json"},
		"two state assets":             {`{"assets":[` + asset("state", state, good) + `,` + asset("state", state, good) + `]}`, "is the state dir " + state + " again"},
		"archive path is the staging":  {`{"assets":[` + asset("state", state, ".") + `]}`, "not a path inside the archive"},
	} {
		if _, err := restoredState(staging(t, c.manifest), state); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}
