package actions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fuzzStaging lays out, once per fuzz process, a restored archive with
// every trap the planner must refuse: links out of and within staging on
// the way to a state dir, a state dir holding a FIFO, a file where a
// directory is expected. The planner only reads it.
func fuzzStaging(f *testing.F) (staging, outside string) {
	base := f.TempDir()
	staging, outside = filepath.Join(base, "staging"), filepath.Join(base, "outside")
	state := filepath.Join(staging, "arch", "payload", "posix", "home", "u", ".openclaw")
	for p, data := range map[string]string{
		filepath.Join(state, "openclaw.json"):                          "{}",
		filepath.Join(state, "workspace", "AGENTS.md"):                 "x",
		filepath.Join(staging, "arch", "manifest.json"):                "{}",
		filepath.Join(staging, "arch", "file"):                         "x",
		filepath.Join(staging, "arch", "bad", ".openclaw", "ok"):       "x",
		filepath.Join(outside, "victim", "secret"):                     "x",
		filepath.Join(outside, "posix", "home", "u", ".openclaw", "x"): "x",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	for link, to := range map[string]string{
		filepath.Join(staging, "arch", "lnk"):                                 outside,
		filepath.Join(staging, "arch", "inlnk"):                               "payload",
		filepath.Join(state, "ws-link"):                                       "workspace",
		filepath.Join(filepath.Dir(state), ".openclaw-link"):                  ".openclaw",
		filepath.Join(staging, "arch", "payload", "posix", "home", "u", "up"): "../../../..",
		filepath.Join(staging, "arch", "abs"):                                 filepath.Join(staging, "arch"),
	} {
		if err := os.Symlink(to, link); err != nil {
			f.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(staging, "arch", "bad", ".openclaw", "pipe"), 0o600); err != nil {
		f.Fatal(err)
	}
	return staging, outside
}

// FuzzRestorePlan feeds manifests to the restore planner over a fixed
// restored archive: whatever it accepts is a real directory beneath
// staging, reached through no symlink, holding no special file, named by
// the one asset that is the state dir.
func FuzzRestorePlan(f *testing.F) {
	const state = "/home/u/.openclaw"
	staging, outside := fuzzStaging(f)
	pipe := filepath.Join(staging, "arch", "bad", ".openclaw", "pipe")
	for _, arc := range []string{
		"arch/payload/posix" + state, "arch/lnk/victim", "arch/inlnk/posix" + state, "arch/abs/payload/posix" + state,
		"arch/payload/posix/home/u/.openclaw-link", "arch/payload/posix/home/u/up/arch/payload/posix" + state,
		"arch/bad/.openclaw", "arch/file", "arch/lnk/posix" + state, "../staging/arch", "/etc", ".", "", "arch//payload/./posix/../posix" + state,
	} {
		f.Add([]byte(nil), state, arc)
	}
	f.Add([]byte(`{"assets":[{"kind":"state","sourcePath":"/home/u/.openclaw/","archivePath":"arch/payload/posix/home/u/.openclaw"},{"kind":"workspace","sourcePath":"/home/u/.openclaw/workspace","archivePath":"x"}]}`), "", "")
	f.Add([]byte(`{"assets":[{"kind":"config","sourcePath":"/etc/openclaw.json","archivePath":"arch/file"}]}`), "", "")
	f.Add([]byte(`{"assets":[{"sourcePath":"/home/u/.openclaw","archivePath":"arch/payload/posix/home/u/.openclaw"},{"sourcePath":"/home/u/.openclaw","archivePath":"arch/lnk/victim"}]}`), "", "")
	f.Add([]byte(`{"assets":null}`), "", "")
	f.Add([]byte(`[`), "", "")
	root, err := openRootDir(staging)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { root.Close() })

	f.Fuzz(func(t *testing.T, manifest []byte, src, arc string) {
		if len(manifest) == 0 {
			manifest, _ = json.Marshal(map[string]any{"assets": []map[string]string{{"kind": "state", "sourcePath": src, "archivePath": arc}}})
		}
		rel, err := planRestore(manifest, "manifest.json", state)
		if err != nil {
			return
		}
		var m restoreManifest
		if json.Unmarshal(manifest, &m) != nil {
			// Decode reads one value and ignores what follows; Unmarshal
			// does not. The first value must still be a manifest.
			if err := json.NewDecoder(strings.NewReader(string(manifest))).Decode(&m); err != nil {
				t.Fatalf("accepted a manifest that does not decode: %v", err)
			}
		}
		states := 0
		for _, a := range m.Assets {
			if s := filepath.Clean(a.SourcePath); s == state {
				states++
			} else if !strings.HasPrefix(s, state+"/") {
				t.Fatalf("accepted an asset outside the state dir: %q", a.SourcePath)
			}
		}
		if states != 1 {
			t.Fatalf("accepted %d state assets", states)
		}
		for _, c := range rel {
			if c == "" || c == "." || c == ".." || strings.ContainsAny(c, "/\x00") {
				t.Fatalf("planned components %q", rel)
			}
		}

		// The oracle: a chain of real directories, none above the FIFO.
		path := filepath.Join(staging, filepath.Join(rel...))
		want := !strings.HasPrefix(pipe, path+"/")
		for i := range rel {
			if fi, err := os.Lstat(filepath.Join(staging, filepath.Join(rel[:i+1]...))); err != nil || !fi.IsDir() {
				want = false
			}
		}
		r, err := resolveRestored(root, staging, rel)
		if (err == nil) != want {
			t.Fatalf("resolving %s: %v, want accepted %v", path, err, want)
		}
		if err != nil {
			return
		}
		defer r.Close()
		if r.path != path {
			t.Fatalf("resolved %s, planned %s", r.path, path)
		}
		if real, err := filepath.EvalSymlinks(path); err != nil || real != path || strings.HasPrefix(real, outside) {
			t.Fatalf("accepted %s, which is %s (%v)", path, real, err)
		}
		if fi, err := os.Lstat(path); err != nil || !os.SameFile(fi, r.info) {
			t.Fatalf("resolved info is not %s", path)
		}
		if !strings.HasPrefix(path, staging+"/") {
			t.Fatalf("accepted %s", path)
		}
	})
}
