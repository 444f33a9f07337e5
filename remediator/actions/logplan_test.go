package actions

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// planFiles builds a directory listing from fuzz bytes: three bytes per
// file pick its directory, its name (live, rotated, archive, another
// profile's) and its age and size.
func planFiles(data []byte, now time.Time) []logFile {
	var files []logFile
	seen := map[string]bool{}
	for i := 0; i+2 < len(data) && len(files) < 64; i += 3 {
		a, b, c := data[i], data[i+1], data[i+2]
		dir := []string{".", "sub", "sub/deeper"}[int(a)%3]
		day := 1 + int(a/3)%28
		var name string
		switch b % 5 {
		case 0:
			name = fmt.Sprintf("openclaw-2026-03-%02d.log", day)
		case 1:
			name = fmt.Sprintf("openclaw-work-2026-03-%02d.log", day)
		case 2:
			name = fmt.Sprintf("openclaw-2026-03-%02d.%d.log", day, 1+int(b/5)%5)
		case 3:
			name = fmt.Sprintf("openclaw-2026-03-%02d.%d.log.gz", day, 1+int(b/5)%5)
		case 4:
			name = fmt.Sprintf("openclaw-2026-03-%02d.log.gz", day)
		}
		if seen[dir+"/"+name] {
			continue
		}
		seen[dir+"/"+name] = true
		files = append(files, logFile{dir: dir, name: name, size: int64(c) * 1000, modTime: now.Add(-time.Duration(c) * time.Hour)})
	}
	return files
}

func FuzzLogPlan(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 50, 1, 3, 200, 2, 1, 90}, uint16(48), uint32(100_000), true, uint8(1))
	f.Add([]byte{3, 0, 0, 3, 0, 5, 6, 7, 255}, uint16(0), uint32(0), false, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, maxAgeHours uint16, maxTotal uint32, compress bool, activeHours uint8) {
		now := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
		files := planFiles(data, now)
		r := LogRetention{MaxAge: time.Duration(maxAgeHours) * time.Hour, MaxTotalBytes: int64(maxTotal), Compress: compress, Active: time.Duration(activeHours) * time.Hour}
		markActive(files, r.Active, now)

		// The newest live log of each profile in each directory is active.
		for i, f := range files {
			prof, _, ok := openclaw.ParseLogFileName(f.name)
			if !ok {
				if f.active {
					t.Fatalf("%s is not a live log but marked active", f.rel())
				}
				continue
			}
			for j, g := range files {
				p2, _, ok2 := openclaw.ParseLogFileName(g.name)
				if i != j && ok2 && p2 == prof && g.dir == f.dir && g.modTime.After(f.modTime) {
					goto notNewest
				}
			}
			if !f.active {
				t.Fatalf("%s is the newest of its profile but not active", f.rel())
			}
		notNewest:
		}

		touched := map[int]bool{}
		for _, st := range planRetention(files, r, now) {
			f := files[st.index]
			if f.active || touched[st.index] {
				t.Fatalf("step %+v on %s (active %v, touched before %v)", st, f.rel(), f.active, touched[st.index])
			}
			touched[st.index] = true
			switch st.op {
			case opDelete:
				if r.MaxAge <= 0 || now.Sub(f.modTime) <= r.MaxAge {
					t.Fatalf("deletes %s aged %s under a max age of %s", f.rel(), now.Sub(f.modTime), r.MaxAge)
				}
				files[st.index].size = -1
			case opCompress:
				if !compress || f.name[len(f.name)-4:] != ".log" {
					t.Fatalf("compresses %s (compress %v)", f.rel(), compress)
				}
			}
		}

		picked := planBudget(files, r.MaxTotalBytes)
		var left int64
		for i, f := range files {
			if f.size >= 0 && !slices.Contains(picked, i) {
				left += f.size
			}
		}
		for k, i := range picked {
			f := files[i]
			if f.active || f.size < 0 {
				t.Fatalf("budget picks %s (active %v, size %d)", f.rel(), f.active, f.size)
			}
			if slices.Contains(picked[:k], i) {
				t.Fatalf("budget picks %s twice", f.rel())
			}
			// Oldest first: nothing kept, deletable and older.
			for j, g := range files {
				if g.size >= 0 && !g.active && !slices.Contains(picked, j) && g.modTime.Before(f.modTime) {
					t.Fatalf("budget deletes %s but keeps the older %s", f.rel(), g.rel())
				}
			}
		}
		if len(picked) > 0 {
			// Minimal: without the last pick the budget was not met.
			if last := files[picked[len(picked)-1]]; left+last.size <= r.MaxTotalBytes {
				t.Fatalf("budget deletes %s although %d bytes fit %d", last.rel(), left+last.size, r.MaxTotalBytes)
			}
		}
		if r.MaxTotalBytes > 0 && left > r.MaxTotalBytes {
			for i, f := range files {
				if f.size >= 0 && !f.active && !slices.Contains(picked, i) {
					t.Fatalf("%d bytes above the budget of %d, yet %s is kept", left, r.MaxTotalBytes, f.rel())
				}
			}
		}
	})
}
