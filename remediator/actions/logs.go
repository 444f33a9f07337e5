package actions

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
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
	Notes                 []string
}

func (r LogReport) String() string {
	s := fmt.Sprintf("compressed %d file(s), deleted %d file(s); log bytes %d -> %d", r.Compressed, r.Deleted, r.BytesBefore, r.BytesNow)
	if len(r.Protected) > 0 {
		s += "; kept active " + strings.Join(r.Protected, ", ")
	}
	for _, n := range r.Notes {
		s += "\n" + n
	}
	return s
}

type logFile struct {
	path    string
	size    int64
	modTime time.Time
	active  bool
}

// isLogName says whether a file name is one of the gateway's logs: the live
// openclaw[-profile]-DATE.log, its rotated .N.log archives and our .gz.
func isLogName(name string) bool {
	return strings.HasPrefix(name, "openclaw-") && (strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".log.gz"))
}

// CleanupLogs enforces retention inside each root: compress rotated files,
// delete those older than MaxAge, then the oldest until the root's logs fit
// MaxTotalBytes. Symlinks are never followed (a root that is one is refused)
// and the file each profile's gateway is writing is never touched.
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

func cleanupRoot(root string, r LogRetention, now time.Time, rep *LogReport) error {
	fi, err := os.Lstat(root)
	if errors.Is(err, fs.ErrNotExist) {
		rep.Notes = append(rep.Notes, "no directory "+root)
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory (symlinks are not followed)")
	}
	files, err := scanLogs(root, r.Active, now)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	rep.BytesBefore += total
	var errs []error
	for i := range files {
		f := &files[i]
		if f.active {
			rep.Protected = append(rep.Protected, f.path)
			continue
		}
		if r.MaxAge > 0 && now.Sub(f.modTime) > r.MaxAge {
			if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			rep.Deleted++
			total -= f.size
			f.size = -1
			continue
		}
		if r.Compress && strings.HasSuffix(f.path, ".log") {
			gz, size, err := compress(f.path, f.modTime)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Compressed++
			total += size - f.size
			f.path, f.size = gz, size
		}
	}
	// Oldest first until the budget holds.
	sort.SliceStable(files, func(a, b int) bool { return files[a].modTime.Before(files[b].modTime) })
	for i := range files {
		f := &files[i]
		if r.MaxTotalBytes <= 0 || total <= r.MaxTotalBytes {
			break
		}
		if f.active || f.size < 0 {
			continue
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		rep.Deleted++
		total -= f.size
	}
	if r.MaxTotalBytes > 0 && total > r.MaxTotalBytes {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d bytes remain above the budget of %d in active files", root, total, r.MaxTotalBytes))
	}
	rep.BytesNow += total
	return errors.Join(errs...)
}

// scanLogs walks root without following symlinks and marks the files that
// must not be touched.
func scanLogs(root string, activeFor time.Duration, now time.Time) ([]logFile, error) {
	var files []logFile
	newest := map[string]int{} // dir + profile → index of its newest live log
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != root && errors.Is(err, fs.ErrPermission) {
				return fs.SkipDir
			}
			return err
		}
		if !d.Type().IsRegular() || !isLogName(d.Name()) {
			return nil // directories are walked; symlinks, devices and other files are not ours
		}
		fi, err := d.Info()
		if err != nil {
			return nil // gone since the listing
		}
		f := logFile{path: path, size: fi.Size(), modTime: fi.ModTime()}
		files = append(files, f)
		// Rotated archives are never written again; a live-named file may
		// be, while it is the newest of its profile or was written lately.
		if prof, _, ok := openclaw.ParseLogFileName(d.Name()); ok {
			files[len(files)-1].active = activeFor > 0 && now.Sub(f.modTime) < activeFor
			key := filepath.Dir(path) + "\x00" + prof
			if j, seen := newest[key]; !seen || f.modTime.After(files[j].modTime) {
				newest[key] = len(files) - 1
			}
		}
		return nil
	})
	for _, i := range newest {
		files[i].active = true
	}
	return files, err
}

// compress gzips path into a new file beside it and removes the original.
// The source is opened with O_NOFOLLOW: a symlink swapped in since the scan
// fails instead of being followed.
func compress(path string, modTime time.Time) (string, int64, error) {
	src, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer src.Close()
	var dst *os.File
	var name string
	for i := 0; ; i++ {
		name = path + ".gz"
		if i > 0 {
			name = fmt.Sprintf("%s.%d.log.gz", strings.TrimSuffix(path, ".log"), i) // never clobber an archive
		}
		dst, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			break
		}
	}
	if err != nil {
		return "", 0, fmt.Errorf("create %s: %w", name, err)
	}
	zw := gzip.NewWriter(dst)
	_, err = io.Copy(zw, src)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", 0, fmt.Errorf("compress %s: %w", path, err)
	}
	_ = os.Chtimes(name, modTime, modTime) // age rules keep counting from the original
	if err := os.Remove(path); err != nil {
		return "", 0, fmt.Errorf("remove %s after compressing: %w", path, err)
	}
	fi, err := os.Lstat(name)
	if err != nil {
		return "", 0, err
	}
	return name, fi.Size(), nil
}
