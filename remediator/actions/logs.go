package actions

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// LogRetention is what CleanupLogs enforces in each root.
type LogRetention struct {
	MaxAge        time.Duration
	MaxTotalBytes int64
	Compress      bool
	// Active protects live-named logs modified this recently, besides the
	// newest of each profile: a gateway may still be writing them.
	Active time.Duration
}

// LogReport sums up a cleanup.
type LogReport struct {
	Compressed, Deleted   int
	BytesBefore, BytesNow int64
	Protected             []string
	// Changed are the files left alone because they (or a directory above
	// them) changed between the scan and the act.
	Changed []string
	Notes   []string
}

func (r LogReport) String() string {
	s := fmt.Sprintf("compressed %d file(s), deleted %d file(s); log bytes %d -> %d", r.Compressed, r.Deleted, r.BytesBefore, r.BytesNow)
	if len(r.Protected) > 0 {
		s += "; kept active " + strings.Join(r.Protected, ", ")
	}
	if len(r.Changed) > 0 {
		s += "; left alone, changed since the scan: " + strings.Join(r.Changed, ", ")
	}
	for _, n := range r.Notes {
		s += "\n" + n
	}
	return s
}

var (
	// errNotFollowed: a path component is a symlink or not a directory.
	errNotFollowed = errors.New("not a directory (symlinks are not followed)")
	// errChanged: what is there now is not what the scan saw, because a
	// rename or a symlink got in the way.
	errChanged = errors.New("changed since the scan; left alone")
)

// changedSinceScan reports whether err says that what an operation found
// is not what the scan saw: a file or directory replaced, or swapped for a
// symlink, meanwhile. Anyone who can write in a log directory can cause
// that, so it skips the file, never the cleanup.
func changedSinceScan(err error) bool {
	return errors.Is(err, errChanged) || errors.Is(err, errNotFollowed)
}

// afterScan, when set by a test, runs between the scan and the act.
var afterScan func(root string)

// maxLogDepth bounds how deep the scan descends (one descriptor per level).
const maxLogDepth = 16

// CleanupLogs enforces retention inside each root: compress rotated files,
// delete those older than MaxAge, then the oldest until the root's logs fit
// MaxTotalBytes. The file each profile's gateway is writing is never touched.
//
// The remediator may run as root while others can write in a log directory,
// so every operation is resolved beneath the root through an os.Root (the
// kernel refuses escapes), one directory at a time, and refuses symlinks on
// every component: os.Root would follow a link that stays inside the root,
// so each directory and file is checked to be the very one the scan saw.
func CleanupLogs(roots []string, r LogRetention, now time.Time) (LogReport, error) {
	var rep LogReport
	var errs []error
	for _, root := range roots {
		if err := cleanupRoot(root, r, now, &rep); err != nil {
			errs = append(errs, fmt.Errorf("log root %s: %w", root, err))
		}
	}
	return rep, errors.Join(errs...)
}

func cleanupRoot(rootPath string, r LogRetention, now time.Time, rep *LogReport) error {
	root, err := openRootDir(rootPath)
	if errors.Is(err, fs.ErrNotExist) {
		rep.Notes = append(rep.Notes, "no directory "+rootPath)
		return nil
	}
	if err != nil {
		return err
	}
	defer root.Close()
	files, notes, err := scanLogs(root)
	for _, n := range notes {
		rep.Notes = append(rep.Notes, rootPath+": "+n)
	}
	if err != nil {
		return err
	}
	if afterScan != nil {
		afterScan(rootPath)
	}
	markActive(files, r.Active, now)
	var total int64
	for _, f := range files {
		total += f.size
		if f.active {
			rep.Protected = append(rep.Protected, filepath.Join(rootPath, f.rel()))
		}
	}
	rep.BytesBefore += total
	var errs []error
	// skip leaves a file that changed since the scan alone, named; its
	// size stays counted, as the scan saw it.
	skip := func(f *logFile, err error) bool {
		if !changedSinceScan(err) {
			return false
		}
		rep.Changed = append(rep.Changed, filepath.Join(rootPath, f.rel()))
		f.active = true // not picked again by the budget
		return true
	}
	// gone drops a file that is no longer there (removed now, or by
	// someone else meanwhile) from the total.
	gone := func(f *logFile) {
		total -= f.size
		f.size = -1
	}
	remove := func(f *logFile) {
		switch err := removeLog(root, *f); {
		case err == nil:
			rep.Deleted++
			gone(f)
		case errors.Is(err, fs.ErrNotExist):
			gone(f)
		case !skip(f, err):
			errs = append(errs, err)
		}
	}
	for _, st := range planRetention(files, r, now) {
		f := &files[st.index]
		switch st.op {
		case opDelete:
			remove(f)
		case opCompress:
			name, info, err := compressLog(root, *f)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				gone(f)
				continue
			case err != nil:
				if !skip(f, err) {
					errs = append(errs, err)
				}
				continue
			}
			rep.Compressed++
			total += info.Size() - f.size
			f.name, f.size, f.info = name, info.Size(), info
		}
	}
	for _, i := range planBudget(files, r.MaxTotalBytes) {
		remove(&files[i])
	}
	if r.MaxTotalBytes > 0 && total > r.MaxTotalBytes {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d bytes remain above the budget of %d in active files", rootPath, total, r.MaxTotalBytes))
	}
	rep.BytesNow += total
	return errors.Join(errs...)
}

// openRootDir opens a configured directory, refusing one that is a symlink.
func openRootDir(path string) (*os.Root, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errNotFollowed
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	if err := sameDir(root, fi, path); err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

// openSubdir opens the directory name of dir, refusing a symlink, even one
// that stays inside the root, and one swapped in between the look and the
// open.
func openSubdir(dir *os.Root, name string) (*os.Root, error) {
	fi, err := dir.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: %w", name, errNotFollowed)
	}
	sub, err := dir.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	if err := sameDir(sub, fi, name); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// sameDir checks that the opened directory is the one lstat saw.
func sameDir(opened *os.Root, seen fs.FileInfo, name string) error {
	got, err := opened.Stat(".")
	if err != nil {
		return err
	}
	if !os.SameFile(seen, got) {
		return fmt.Errorf("%s: %w", name, errChanged)
	}
	return nil
}

// inDir runs fn on the directory rel (slash-separated, "." for the root),
// resolved afresh from the root one component at a time, so that a
// directory renamed or replaced since the scan is never followed.
func inDir(root *os.Root, rel string, fn func(dir *os.Root) error) error {
	dir := root
	for _, name := range strings.Split(rel, "/") {
		if name == "." {
			continue
		}
		sub, err := openSubdir(dir, name)
		if dir != root {
			dir.Close()
		}
		if err != nil {
			return err
		}
		dir = sub
	}
	if dir != root {
		defer dir.Close()
	}
	return fn(dir)
}

// scanLogs lists the gateway's regular log files beneath root. Symlinks,
// devices, FIFOs and other files are not ours; directories that cannot be
// opened safely are skipped with a note.
func scanLogs(root *os.Root) ([]logFile, []string, error) {
	var files []logFile
	var notes []string
	var walk func(dir *os.Root, rel string, depth int) error
	walk = func(dir *os.Root, rel string, depth int) error {
		d, err := dir.Open(".")
		if err != nil {
			return err
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case e.IsDir():
				subRel := filepath.ToSlash(filepath.Join(rel, name))
				if depth >= maxLogDepth {
					notes = append(notes, fmt.Sprintf("%s: more than %d levels deep; not scanned", subRel, maxLogDepth))
					continue
				}
				sub, err := openSubdir(dir, name)
				if err != nil {
					if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrNotExist) {
						notes = append(notes, fmt.Sprintf("%s: not scanned: %v", subRel, err))
					}
					continue
				}
				err = walk(sub, subRel, depth+1)
				sub.Close()
				if err != nil {
					notes = append(notes, fmt.Sprintf("%s: not scanned: %v", subRel, err))
				}
			case e.Type().IsRegular() && openclaw.IsLogName(name):
				fi, err := dir.Lstat(name)
				if err != nil || !fi.Mode().IsRegular() {
					continue // gone or swapped since the listing
				}
				files = append(files, logFile{dir: rel, name: name, size: fi.Size(), modTime: fi.ModTime(), info: fi})
			}
		}
		return nil
	}
	return files, notes, walk(root, ".", 0)
}

// sameAsScanned checks that name in dir is still the file the scan saw,
// unwritten since: same inode (which a file created after one was removed
// may reuse), size and modification time. A file written meanwhile would
// lose what was written if it were deleted or compressed.
func sameAsScanned(dir *os.Root, f logFile) error {
	fi, err := dir.Lstat(f.name)
	if err != nil {
		return err
	}
	if f.info != nil && (!os.SameFile(fi, f.info) || fi.Size() != f.info.Size() || !fi.ModTime().Equal(f.info.ModTime())) {
		return fmt.Errorf("%s: %w", f.rel(), errChanged)
	}
	return nil
}

// removeLog removes the scanned file, never what replaced it. unlinkat acts
// on the name itself, never on a symlink's target.
func removeLog(root *os.Root, f logFile) error {
	return inDir(root, f.dir, func(dir *os.Root) error {
		if err := sameAsScanned(dir, f); err != nil {
			return err
		}
		return dir.Remove(f.name)
	})
}

// compressLog gzips the scanned file into a new file beside it and removes
// the original. The source is opened without blocking (a FIFO swapped in
// would hang the open) or following a symlink, and checked on the descriptor
// to be the scanned regular file.
func compressLog(root *os.Root, f logFile) (name string, info fs.FileInfo, err error) {
	err = inDir(root, f.dir, func(dir *os.Root) error {
		src, si, err := openInRoot(dir, f.name)
		if errors.Is(err, openclaw.ErrNotRegular) {
			return fmt.Errorf("%s: %w: %v", f.rel(), errChanged, err)
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", f.rel(), err)
		}
		defer src.Close()
		if f.info != nil && !os.SameFile(si, f.info) {
			return fmt.Errorf("%s: %w", f.rel(), errChanged)
		}
		var dst *os.File
		for i := 0; ; i++ {
			name = openclaw.CompressedLogName(f.name, i)
			// O_EXCL never follows a symlink at the name.
			dst, err = dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
			if !errors.Is(err, fs.ErrExist) || i > 100 {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		if info, err = writeGzip(dst, src, si.ModTime()); err != nil {
			dir.Remove(name)
			return fmt.Errorf("compress %s: %w", f.rel(), err)
		}
		err = sameAsScanned(dir, f)
		if err == nil {
			err = dir.Remove(f.name)
		}
		if err != nil {
			// The original stays: drop our copy, or the next run archives it twice.
			if fi, lerr := dir.Lstat(name); lerr == nil && os.SameFile(fi, info) {
				dir.Remove(name)
			}
			return fmt.Errorf("remove %s after compressing: %w", f.rel(), err)
		}
		return nil
	})
	return name, info, err
}

// openInRoot opens name in dir as every gateway log is opened
// (openclaw.OpenRegularAt): os.Root alone would follow a symlink that stays
// inside the root.
func openInRoot(dir *os.Root, name string) (*os.File, fs.FileInfo, error) {
	d, err := dir.Open(".")
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	return openclaw.OpenRegularAt(d, name)
}

// writeGzip compresses src into dst, dates it like the original (age rules
// keep counting from it) through the descriptor, and closes dst.
func writeGzip(dst, src *os.File, modTime time.Time) (fs.FileInfo, error) {
	zw := gzip.NewWriter(dst)
	_, err := io.Copy(zw, src)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = dst.Sync()
	}
	if err == nil {
		_ = setModTime(dst, modTime) // best effort: it only delays the age rule
	}
	var info fs.FileInfo
	if err == nil {
		info, err = dst.Stat()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return info, err
}
