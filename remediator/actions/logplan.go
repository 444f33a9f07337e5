package actions

import (
	"io/fs"
	"path"
	"sort"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// logFile is one log the scan found. dir is relative to the root ("." for
// the root itself); info is what the scan saw, so that a file swapped in
// under the same name since then is recognised and left alone.
type logFile struct {
	dir, name string
	size      int64
	modTime   time.Time
	active    bool
	info      fs.FileInfo
}

func (f logFile) rel() string { return path.Join(f.dir, f.name) }

// markActive marks the files that must not be touched: the newest live log
// of each profile in each directory (all of them on a tie: either may be the
// one written), and live-named logs modified within activeFor. Rotated
// archives are never written again; a live-named file may be, while it is
// the newest of its profile or was written lately.
func markActive(files []logFile, activeFor time.Duration, now time.Time) {
	key := func(f logFile) (string, bool) {
		prof, _, ok := openclaw.ParseLogFileName(f.name)
		return f.dir + "\x00" + prof, ok
	}
	newest := map[string]time.Time{} // dir + profile → modification time of its newest live log
	for _, f := range files {
		if k, ok := key(f); ok {
			if t, seen := newest[k]; !seen || f.modTime.After(t) {
				newest[k] = f.modTime
			}
		}
	}
	for i := range files {
		f := &files[i]
		if k, ok := key(*f); ok {
			f.active = f.active || !f.modTime.Before(newest[k]) || (activeFor > 0 && now.Sub(f.modTime) < activeFor)
		}
	}
}

type logOp int

const (
	opDelete logOp = iota + 1
	opCompress
)

// logStep is one planned operation on files[index].
type logStep struct {
	index int
	op    logOp
}

// planRetention decides, for every file that is not active, whether it is
// past MaxAge (deleted) or an uncompressed log to compress.
func planRetention(files []logFile, r LogRetention, now time.Time) []logStep {
	var steps []logStep
	for i, f := range files {
		switch {
		case f.active:
		case r.MaxAge > 0 && now.Sub(f.modTime) > r.MaxAge:
			steps = append(steps, logStep{i, opDelete})
		case r.Compress && !openclaw.IsCompressedLog(f.name):
			steps = append(steps, logStep{i, opCompress})
		}
	}
	return steps
}

// planBudget picks the files to delete, oldest first, until the sizes of
// those left fit maxTotal. Files with a negative size are gone already;
// active files are never picked, so they may keep the total above it.
func planBudget(files []logFile, maxTotal int64) []int {
	if maxTotal <= 0 {
		return nil
	}
	var total int64
	order := make([]int, 0, len(files))
	for i, f := range files {
		if f.size < 0 {
			continue
		}
		total += f.size
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool { return files[order[a]].modTime.Before(files[order[b]].modTime) })
	var picked []int
	for _, i := range order {
		if total <= maxTotal {
			break
		}
		if files[i].active {
			continue
		}
		picked = append(picked, i)
		total -= files[i].size
	}
	return picked
}
