package console

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
)

// snapshot is one evidence directory the restart action wrote for the
// incident (one per attempt), as stored.
type snapshot struct {
	Name  string
	Files []evidenceFile
}

type evidenceFile struct {
	Name      string
	Size      int64
	Content   string
	Truncated bool
}

// maxShown bounds how much of one evidence file a page shows; the download
// has all of it.
const maxShown = 256 << 10

// safeName is what snapshot directory and file names look like
// (actions.Evidence writes them); anything else is not served.
var safeName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// evidence reads the incident's snapshots under the diagnostics directory,
// through an os.Root so that nothing outside it is reachable, and only
// regular files: a symlink is listed as skipped, never followed.
func (c *Console) evidence(dir, id string) ([]snapshot, string) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	if err != nil {
		return nil, fmt.Sprintf("diagnostics directory: %v", err)
	}
	defer root.Close()
	names, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, fmt.Sprintf("diagnostics directory: %v", err)
	}
	var out []snapshot
	for _, d := range names {
		if !d.IsDir() || !ownSnapshot(d.Name(), id) {
			continue
		}
		snap := snapshot{Name: d.Name()}
		files, err := fs.ReadDir(root.FS(), d.Name())
		if err != nil {
			return out, fmt.Sprintf("snapshot %s: %v", d.Name(), err)
		}
		for _, f := range files {
			ef := evidenceFile{Name: f.Name()}
			data, size, err := readEvidence(root, d.Name(), f.Name(), maxShown)
			if err != nil {
				ef.Content = err.Error()
			} else {
				ef.Content, ef.Size, ef.Truncated = string(data), size, size > int64(len(data))
			}
			snap.Files = append(snap.Files, ef)
		}
		out = append(out, snap)
	}
	slices.SortFunc(out, func(a, b snapshot) int { return strings.Compare(a.Name, b.Name) })
	return out, ""
}

// ownSnapshot reports whether a snapshot directory belongs to the incident:
// actions.Evidence names them TIME-TARGET-INCIDENT.
func ownSnapshot(name, id string) bool {
	return safeName.MatchString(name) && strings.HasSuffix(name, "-"+id)
}

// openEvidence opens one regular file of a snapshot.
func openEvidence(root *os.Root, snap, file string) (*os.File, int64, error) {
	if !safeName.MatchString(snap) || !safeName.MatchString(file) {
		return nil, 0, errors.New("not an evidence file name")
	}
	p := path.Join(snap, file)
	fi, err := root.Lstat(p)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file; not shown", file)
	}
	f, err := root.Open(p)
	return f, fi.Size(), err
}

func readEvidence(root *os.Root, snap, file string, limit int64) ([]byte, int64, error) {
	f, size, err := openEvidence(root, snap, file)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit))
	return data, size, err
}

// evidenceFile serves one file as stored, as a download.
func (c *Console) evidenceFile(w http.ResponseWriter, r *http.Request, s *session) {
	id, snap, file := r.PathValue("id"), r.PathValue("snapshot"), r.PathValue("file")
	if !ownSnapshot(snap, id) {
		c.fail(w, s, http.StatusNotFound, "No such evidence for incident "+id+".")
		return
	}
	root, err := os.OpenRoot(c.o.Config().Diagnostics.Dir)
	if err != nil {
		c.fail(w, s, http.StatusNotFound, "diagnostics directory: "+err.Error())
		return
	}
	defer root.Close()
	f, size, err := openEvidence(root, snap, file)
	if err != nil {
		c.fail(w, s, http.StatusNotFound, "evidence: "+err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s"`, snap, file))
	w.Header().Set("Content-Length", fmt.Sprint(size))
	_, _ = io.CopyN(w, f, size)
}
