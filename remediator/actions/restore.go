package actions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The restore command runs as whoever the driver runs commands as, and the
// archive it extracts is data, so what it leaves in staging is untrusted:
// a component of the state asset's path may be a symlink to any directory
// (the remediator, often root, would move that directory into the state
// dir), and an entry may be a device node or a setuid file. Everything is
// therefore resolved beneath staging through an os.Root, one directory at
// a time, refusing symlinks on every component (os.Root would follow one
// that stays inside staging), and the restored tree is checked before the
// gateway is stopped.

// maxManifest bounds the manifest read: OpenClaw's lists a few assets.
const maxManifest = 16 << 20

// restoreManifest is what the remediator reads of an archive's
// manifest.json.
type restoreManifest struct {
	Assets []struct {
		Kind        string `json:"kind"`
		SourcePath  string `json:"sourcePath"`
		ArchivePath string `json:"archivePath"`
	} `json:"assets"`
}

// planRestore reads a manifest (name is for messages) and returns where,
// relative to staging, the archive put the state dir state: cleaned, local
// and slash-separated. Every asset must be state itself or inside it: other
// paths (a config or an agent outside the state dir) are for an operator to
// restore. It only reads data; restoredState checks the disk.
func planRestore(data []byte, name, state string) ([]string, error) {
	var m restoreManifest
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var rel []string
	for i, a := range m.Assets {
		src := filepath.Clean(a.SourcePath)
		if src != state && !strings.HasPrefix(src, state+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s: assets[%d] (%s) is %s, outside the state dir %s: restore it by hand", name, i, a.Kind, a.SourcePath, state)
		}
		if src != state {
			continue
		}
		if rel != nil {
			return nil, fmt.Errorf("%s: assets[%d] is the state dir %s again", name, i, state)
		}
		p := filepath.Clean(a.ArchivePath)
		if !filepath.IsLocal(a.ArchivePath) || p == "." || strings.ContainsRune(p, 0) {
			return nil, fmt.Errorf("%s: assets[%d].archivePath %q is not a path inside the archive", name, i, a.ArchivePath)
		}
		rel = strings.Split(filepath.ToSlash(p), "/")
	}
	if rel == nil {
		return nil, fmt.Errorf("%s: no asset is the state dir %s", name, state)
	}
	return rel, nil
}

// restoredDir is the restored copy of the state dir, found beneath staging
// without following a symlink. Its parent directory stays open, so that the
// move into place acts on the directory that was checked.
type restoredDir struct {
	path   string // for messages
	parent *os.File
	name   string
	info   fs.FileInfo
}

func (r *restoredDir) Close() error { return r.parent.Close() }

// moveTo renames the restored directory to dst (whose parent is the
// configured state dir's, trusted). rename(2) never follows the name it
// moves; a name swapped since the check is moved back and refused.
func (r *restoredDir) moveTo(dst string) error {
	d, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return err
	}
	defer d.Close()
	base := filepath.Base(dst)
	if err := renameAt(r.parent, r.name, d, base); err != nil {
		return &os.LinkError{Op: "rename", Old: r.path, New: dst, Err: err}
	}
	if fi, err := os.Lstat(dst); err != nil || !os.SameFile(fi, r.info) {
		err := fmt.Errorf("%s: %w", r.path, errChanged)
		if rerr := renameAt(d, base, r.parent, r.name); rerr != nil {
			err = errors.Join(err, fmt.Errorf("move %s back: %w", dst, rerr))
		}
		return err
	}
	return nil
}

// restoredState finds the one manifest of an archive restored into staging
// (DIR/<archive root>/manifest.json) and the restored copy of state it
// names (DIR/<archive root>/payload/posix/<state>), and checks the tree
// beneath it. No symlink is followed on the way, and the tree holds only
// directories, regular files and symlinks (OpenClaw archives a state's
// links; the remediator never follows them, it only renames the top).
func restoredState(staging, state string) (*restoredDir, error) {
	root, err := openRootDir(staging)
	if err != nil {
		return nil, fmt.Errorf("restored archive %s: %w", staging, err)
	}
	defer root.Close()
	name, data, err := readManifest(root, staging)
	if err != nil {
		return nil, err
	}
	rel, err := planRestore(data, name, state)
	if err != nil {
		return nil, err
	}
	return resolveRestored(root, staging, rel)
}

// readManifest reads the manifest.json of the one directory in root that
// has one, refusing links and anything but a regular file.
func readManifest(root *os.Root, staging string) (string, []byte, error) {
	d, err := root.Open(".")
	if err != nil {
		return "", nil, err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return "", nil, fmt.Errorf("restored archive %s: %w", staging, err)
	}
	var found []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if fi, err := root.Lstat(e.Name() + "/manifest.json"); err == nil && !fi.IsDir() {
			found = append(found, e.Name())
		}
	}
	if len(found) != 1 {
		return "", nil, fmt.Errorf("restored archive in %s: want one manifest.json, found %d", staging, len(found))
	}
	name := filepath.Join(staging, found[0], "manifest.json")
	dir, err := openSubdir(root, found[0])
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	defer dir.Close()
	fi, err := dir.Lstat("manifest.json")
	if err != nil {
		return "", nil, err
	}
	if !fi.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%s is a %s, not a regular file", name, kindOf(fi.Mode()))
	}
	// Without blocking: a FIFO swapped in would hang the open.
	f, err := dir.OpenFile("manifest.json", os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	if si, err := f.Stat(); err != nil || !os.SameFile(si, fi) {
		return "", nil, fmt.Errorf("%s: %w", name, errChanged)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxManifest {
		return "", nil, fmt.Errorf("%s: larger than %d bytes", name, maxManifest)
	}
	return name, data, nil
}

// resolveRestored opens rel beneath root one directory at a time, refusing
// a symlink or anything but a directory on every component, then checks
// the tree beneath it.
func resolveRestored(root *os.Root, staging string, rel []string) (*restoredDir, error) {
	path := filepath.Join(staging, filepath.FromSlash(strings.Join(rel, "/")))
	dir := root
	closeDir := func() {
		if dir != root {
			dir.Close()
		}
	}
	defer func() { closeDir() }()
	// open checks the component itself first, for a message that names it.
	open := func(i int) (*os.Root, error) {
		fi, err := dir.Lstat(rel[i])
		if err == nil && !fi.IsDir() {
			err = fmt.Errorf("%s is a %s, not a directory (symlinks are not followed)", strings.Join(rel[:i+1], "/"), kindOf(fi.Mode()))
		}
		var sub *os.Root
		if err == nil {
			sub, err = openSubdir(dir, rel[i])
		}
		if err != nil {
			return nil, fmt.Errorf("restored state %s: %w", path, err)
		}
		return sub, nil
	}
	for i := range len(rel) - 1 {
		sub, err := open(i)
		if err != nil {
			return nil, err
		}
		closeDir()
		dir = sub
	}
	state, err := open(len(rel) - 1)
	if err != nil {
		return nil, err
	}
	defer state.Close()
	info, err := state.Stat(".")
	if err != nil {
		return nil, err
	}
	if err := checkTree(state); err != nil {
		return nil, fmt.Errorf("restored state %s: %w", path, err)
	}
	parent, err := dir.Open(".")
	if err != nil {
		return nil, err
	}
	return &restoredDir{path: path, parent: parent, name: rel[len(rel)-1], info: info}, nil
}

// checkTree refuses a tree holding anything but directories, regular files
// and symlinks, or a setuid or setgid file: extracted as root, a device
// node or a setuid binary would hand whoever runs the gateway more than the
// state it had.
func checkTree(root *os.Root) error {
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		t := d.Type()
		switch {
		case t.IsDir() || t.IsRegular():
		case t&fs.ModeSymlink != 0:
			return nil // never followed: WalkDir does not descend into it
		default:
			return fmt.Errorf("%s is a %s: only directories, regular files and symlinks are restored", p, kindOf(t))
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if m := fi.Mode(); m&fs.ModeSetuid != 0 || (m&fs.ModeSetgid != 0 && !m.IsDir()) {
			return fmt.Errorf("%s is setuid or setgid (%s): refused", p, m)
		}
		return nil
	})
}

// kindOf names a file type for messages.
func kindOf(m fs.FileMode) string {
	switch t := m.Type(); {
	case t.IsDir():
		return "directory"
	case t&fs.ModeSymlink != 0:
		return "symlink"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "device"
	case t == 0:
		return "regular file"
	default:
		return "irregular file"
	}
}
