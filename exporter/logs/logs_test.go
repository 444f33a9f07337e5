package logs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/target/targettest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

func line(level openclaw.Level, msg string) []byte {
	return openclaw.EncodeRecord(openclaw.Record{Time: time.Now(), Level: level, Subsystem: "gateway", Message: msg}, "test")
}

type tally struct {
	lines, matches map[string]float64
	c              *counter
}

func newTally() *tally {
	return &tally{lines: map[string]float64{}, matches: map[string]float64{}, c: newCounter(config.DefaultLogPatterns)}
}

func (t *tally) add(chunk []byte) { t.c.count(chunk, t.lines, t.matches) }

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

func TestTailerSkipsHistoryThenReadsOnlyNewBytes(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, openclaw.LogFileName("", time.Now()))
	appendFile(t, live, line(openclaw.LevelError, "old EMFILE"))
	tl, ta := newTailer("", []string{dir}), newTally()
	if n, err := tl.poll(1<<30, ta.add); err != nil || n != 0 {
		t.Fatalf("first poll read %d, %v; want the history skipped", n, err)
	}
	added := append(line(openclaw.LevelInfo, "hello"), line(openclaw.LevelError, "Error: EMFILE: too many open files")...)
	appendFile(t, live, added)
	n, err := tl.poll(1<<30, ta.add)
	if err != nil || n != int64(len(added)) {
		t.Fatalf("poll read %d, %v; want %d", n, err, len(added))
	}
	if ta.lines["info"] != 1 || ta.lines["error"] != 1 || ta.matches["emfile"] != 1 {
		t.Fatalf("lines %v matches %v", ta.lines, ta.matches)
	}
	if n, _ := tl.poll(1<<30, ta.add); n != 0 {
		t.Fatalf("idle poll read %d bytes", n)
	}
}

func TestTailerFollowsRotationWithoutLossOrDoubleCount(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, openclaw.LogFileName("", time.Now()))
	appendFile(t, live, nil)
	tl, ta := newTailer("", []string{dir}), newTally()
	if _, err := tl.poll(1<<30, ta.add); err != nil {
		t.Fatal(err)
	}
	want := 0
	for round := range 4 {
		// Lines written before the rotation, including a line cut in half
		// whose end lands after a poll.
		appendFile(t, live, line(openclaw.LevelWarn, fmt.Sprintf("before %d", round)))
		half := line(openclaw.LevelWarn, "split line")
		appendFile(t, live, half[:10])
		if _, err := tl.poll(1<<30, ta.add); err != nil {
			t.Fatal(err)
		}
		appendFile(t, live, half[10:])
		appendFile(t, live, line(openclaw.LevelWarn, "last before rotation"))
		// The gateway's rotation: rename to .1.log, start a new file.
		if err := os.Rename(live, openclaw.RotatedLogName(live, 1)); err != nil {
			t.Fatal(err)
		}
		appendFile(t, live, line(openclaw.LevelWarn, "first after rotation"))
		if _, err := tl.poll(1<<30, ta.add); err != nil {
			t.Fatal(err)
		}
		want += 4
		os.Remove(openclaw.RotatedLogName(live, 1))
	}
	if ta.lines["warn"] != float64(want) || ta.lines["unknown"] != 0 {
		t.Fatalf("counted %v, want %d warn lines", ta.lines, want)
	}
}

// TestTailerListsOnlyWhenADirectoryChanges: while the log directories are
// unchanged, polls read the open file without listing them; a rotation, or
// a directory that appears, is seen at the next poll, and a directory
// changed moments ago is listed again (a change within its timestamp's
// tick would not show).
func TestTailerListsOnlyWhenADirectoryChanges(t *testing.T) {
	root := t.TempDir()
	dir, later := filepath.Join(root, "logs"), filepath.Join(root, "later")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, openclaw.LogFileName("", time.Now()))
	appendFile(t, live, nil)
	longAgo := time.Now().Add(-time.Hour)
	settle := func(d string) {
		t.Helper()
		if err := os.Chtimes(d, longAgo, longAgo); err != nil {
			t.Fatal(err)
		}
	}
	settle(dir)
	tl, ta := newTailer("", []string{later, dir}), newTally()
	poll := func(wantListings int) {
		t.Helper()
		if _, err := tl.poll(1<<30, ta.add); err != nil {
			t.Fatal(err)
		}
		if tl.listings != wantListings {
			t.Fatalf("%d listings, want %d", tl.listings, wantListings)
		}
	}
	poll(1)
	appendFile(t, live, line(openclaw.LevelWarn, "unlisted"))
	poll(1)
	poll(1)
	if ta.lines["warn"] != 1 {
		t.Fatalf("without listing: %v, want the line read", ta.lines)
	}

	if err := os.Rename(live, openclaw.RotatedLogName(live, 1)); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, line(openclaw.LevelError, "after rotation"))
	poll(2)
	if ta.lines["error"] != 1 {
		t.Fatalf("after rotation: %v, want the new file's line", ta.lines)
	}
	poll(3) // changed just now: not trusted yet
	settle(dir)
	poll(4)
	poll(4)

	if err := os.Mkdir(later, 0o700); err != nil {
		t.Fatal(err)
	}
	poll(5)
}

func TestTailerTruncation(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, openclaw.LogFileName("", time.Now()))
	appendFile(t, live, bytes.Repeat(line(openclaw.LevelInfo, "x"), 10))
	tl, ta := newTailer("", []string{dir}), newTally()
	tl.poll(1<<30, ta.add)
	if err := os.Truncate(live, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, line(openclaw.LevelFatal, "after truncation"))
	if _, err := tl.poll(1<<30, ta.add); err != nil {
		t.Fatal(err)
	}
	if ta.lines["fatal"] != 1 {
		t.Fatalf("after truncation: %v", ta.lines)
	}
}

func TestTailerBudgetCarriesOver(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, openclaw.LogFileName("", time.Now()))
	appendFile(t, live, nil)
	tl, ta := newTailer("", []string{dir}), newTally()
	tl.poll(1<<30, ta.add)
	data := bytes.Repeat(line(openclaw.LevelDebug, strings.Repeat("y", 100)), 100)
	appendFile(t, live, data)
	var total int64
	for range 20 {
		n, err := tl.poll(int64(len(data)/7), ta.add)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != int64(len(data)) || ta.lines["debug"] != 100 {
		t.Fatalf("read %d of %d, lines %v", total, len(data), ta.lines)
	}
}

func TestCounterPatterns(t *testing.T) {
	c := newCounter([]config.Pattern{
		{Name: "oom", Contains: []string{"heap out of memory", "OutOfMemoryError"}},
		{Name: "quoted", Contains: []string{`say "hi"`}},
		{Name: "chinese", Contains: []string{"模型无响应"}},
	})
	chunk := bytes.Join([][]byte{
		line(openclaw.LevelFatal, "FATAL ERROR: heap out of memory (OutOfMemoryError)"), // both needles, one line
		line(openclaw.LevelError, "OutOfMemoryError"),
		line(openclaw.LevelInfo, `they say "hi"`),
		line(openclaw.LevelWarn, "模型无响应"),
		[]byte("not json at all\n"),
	}, nil)
	lines, matches := map[string]float64{}, map[string]float64{}
	c.count(chunk, lines, matches)
	if matches["oom"] != 2 || matches["quoted"] != 1 || matches["chinese"] != 1 {
		t.Errorf("matches = %v", matches)
	}
	if lines["fatal"] != 1 || lines["error"] != 1 || lines["info"] != 1 || lines["warn"] != 1 || lines["unknown"] != 1 {
		t.Errorf("lines = %v", lines)
	}
}

// FuzzCounterAgreesWithDecoder holds the fast level scan to the decoder: for
// a line DecodeRecord accepts with a level name, the counter finds the same.
func FuzzCounterAgreesWithDecoder(f *testing.F) {
	f.Add("starting...", uint8(3))
	f.Add(`"logLevelName":"ERROR" in a message`, uint8(4))
	f.Add("line\nbreak", uint8(5))
	f.Fuzz(func(t *testing.T, msg string, lvl uint8) {
		level := openclaw.Level(lvl%6 + 1)
		l := line(level, msg)
		var r openclaw.Record
		if err := openclaw.DecodeRecord(bytes.TrimSuffix(l, []byte("\n")), &r); err != nil {
			t.Fatalf("encoded line does not decode: %v", err)
		}
		lines, matches := map[string]float64{}, map[string]float64{}
		newCounter(nil).count(l, lines, matches)
		if lines[strings.ToLower(r.Level.String())] != 1 {
			t.Fatalf("counter %v, decoder %s for %q", lines, r.Level, l)
		}
	})
}

// BenchmarkCount measures the scan over real gateway lines; compare with
// BenchmarkDecodeRecord in internal/openclaw (bytes/s via SetBytes).
func BenchmarkCount(b *testing.B) {
	data, err := os.ReadFile("../../testdata/tslog/openclaw-2026.9.6.log")
	if err != nil {
		b.Fatal(err)
	}
	chunk := bytes.Repeat(data, 1000)
	c := newCounter(config.DefaultLogPatterns)
	lines, matches := map[string]float64{}, map[string]float64{}
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		c.count(chunk, lines, matches)
	}
}

// BenchmarkTailFile reads the log file named by $CLAWWATCH_BENCH_LOG (made by
// bench/logtail.sh) from its start through the tailer and the counter, as a
// scrape does after that much was appended.
func BenchmarkTailFile(b *testing.B) {
	path := os.Getenv("CLAWWATCH_BENCH_LOG")
	if path == "" {
		b.Skip("CLAWWATCH_BENCH_LOG not set; run bench/logtail.sh")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		tl, ta := newTailer("", []string{filepath.Dir(path)}), newTally()
		tl.started = true // read from the start, as after an append
		n, err := tl.poll(1<<40, ta.add)
		if err != nil || n != fi.Size() {
			b.Fatalf("read %d of %d: %v", n, fi.Size(), err)
		}
		tl.close()
	}
}

// hangDeadline is how long a scrape may take before the test calls it hung;
// it is a detector for "never returns", not a performance threshold.
const hangDeadline = time.Minute

// collectorFor returns a log collector tailing dir.
func collectorFor(t *testing.T, dir string) *Collector {
	t.Helper()
	c := New(targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    state_dir: %s\n    log_dir: %s\n", t.TempDir(), dir)), config.DefaultLogPatterns)
	t.Cleanup(c.Close)
	return c
}

// scrapeWithin runs one Update and returns its series by name (labels other
// than gateway in braces) and its error; the test fails if it never returns.
func scrapeWithin(t *testing.T, c *Collector) (map[string]float64, error) {
	t.Helper()
	type result struct {
		series map[string]float64
		err    error
	}
	done := make(chan result, 1)
	go func() {
		series, err := targettest.Gather(c)
		done <- result{series, err}
	}()
	select {
	case r := <-done:
		return r.series, r.err
	case <-time.After(hangDeadline):
		t.Fatalf("a scrape of the log collector did not return within %s", hangDeadline)
		return nil, nil
	}
}

// TestFIFOSwappedForNewestLogNeverHangsAScrape is the attack of issue 13: a
// racer renames FIFOs over the newest log while it rotates. A plain open of
// the FIFO blocked for good (and every later scrape behind the collector's
// lock); every scrape must return.
func TestFIFOSwappedForNewestLogNeverHangsAScrape(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	live := filepath.Join(dir, openclaw.LogFileName("", time.Now()))
	appendFile(t, live, line(openclaw.LevelInfo, "start"))
	c := collectorFor(t, dir)
	// Should a scrape hang in spite of all, open its FIFO for writing so
	// that it returns and the cleanup's Close does not wait on it forever.
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Type()&os.ModeNamedPipe != 0 {
				if f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			}
		}
	})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopRacer := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopRacer)
	var fifos, logs atomic.Int64
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tmp := filepath.Join(dir, fmt.Sprintf("swap-%d", i))
			if i%2 == 0 {
				if err := syscall.Mkfifo(tmp, 0o600); err != nil {
					t.Error(err)
					return
				}
				fifos.Add(1)
			} else {
				if err := os.WriteFile(tmp, line(openclaw.LevelError, "after a rotation"), 0o600); err != nil {
					t.Error(err)
					return
				}
				logs.Add(1)
			}
			if err := os.Rename(tmp, live); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var skipped int
	for range 300 {
		if _, err := scrapeWithin(t, c); err != nil {
			if !strings.Contains(err.Error(), "a FIFO") {
				t.Errorf("scrape failed for another reason than the FIFO: %v", err)
			}
			skipped++
		}
	}
	stopRacer()
	t.Logf("300 scrapes returned while %d FIFOs and %d logs were swapped in; %d skipped a FIFO", fifos.Load(), logs.Load(), skipped)

	// After the swaps, a real log in place is read again.
	if err := os.Remove(live); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, line(openclaw.LevelFatal, "the real log again"))
	before, _ := scrapeWithin(t, c)
	appendFile(t, live, line(openclaw.LevelFatal, "counted"))
	m, err := scrapeWithin(t, c)
	if err != nil || m["openclaw_log_lines_total{level=fatal}"] != before["openclaw_log_lines_total{level=fatal}"]+1 {
		t.Errorf("after the swaps: err %v, fatal lines %v then %v, want one more", err, before["openclaw_log_lines_total{level=fatal}"], m["openclaw_log_lines_total{level=fatal}"])
	}
}

// TestSymlinkToDevZeroIsNeverRead: a racer swaps a symlink to /dev/zero in for
// the newest log and puts the real one back, over and over, while the
// gateway keeps writing ERROR lines to the real one. Followed, the link
// pinned the tailer on /dev/zero (256 MiB per scrape) and the real lines went
// uncounted. Not a byte of /dev/zero may be read, and every real line counts.
func TestSymlinkToDevZeroIsNeverRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	live := filepath.Join(dir, openclaw.LogFileName("", time.Now()))
	hold := filepath.Join(dir, "hold") // a second name of the real log, to put it back
	appendFile(t, live, line(openclaw.LevelInfo, "history, skipped"))
	if err := os.Link(live, hold); err != nil {
		t.Fatal(err)
	}
	c := collectorFor(t, dir)
	if _, err := scrapeWithin(t, c); err != nil { // opens the real log
		t.Fatal(err)
	}
	gw, err := os.OpenFile(live, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopRacer := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopRacer)
	var swaps atomic.Int64
	wg.Go(func() {
		tmp := filepath.Join(dir, "zero")
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, step := range []func() error{
				func() error { return os.Symlink("/dev/zero", tmp) },
				func() error { return os.Rename(tmp, live) },  // the link is the newest log
				func() error { return os.Rename(hold, live) }, // the real one is back
				func() error { return os.Link(live, hold) },
			} {
				if err := step(); err != nil {
					t.Error(err)
					return
				}
			}
			swaps.Add(1)
		}
	})
	var written int64
	var errorLines, skipped int
	for i := range 300 {
		l := line(openclaw.LevelError, fmt.Sprintf("real error %d", i))
		if _, err := gw.Write(l); err != nil {
			t.Fatal(err)
		}
		written += int64(len(l))
		errorLines++
		m, err := scrapeWithin(t, c)
		if err != nil {
			if !strings.Contains(err.Error(), "symlink") {
				t.Errorf("scrape failed for another reason than the symlink: %v", err)
			}
			skipped++
		}
		if got := m["openclaw_log_read_bytes_total"]; got > float64(written) {
			t.Fatalf("scrape %d: openclaw_log_read_bytes_total = %v, more than the %d bytes the gateway wrote: the symlink was followed", i, got, written)
		}
	}
	stopRacer()
	m, _ := scrapeWithin(t, c)
	t.Logf("%d swaps, %d of 300 scrapes skipped the symlink", swaps.Load(), skipped)
	if got := m["openclaw_log_read_bytes_total"]; got != float64(written) {
		t.Errorf("openclaw_log_read_bytes_total = %v, want exactly the %d bytes the gateway wrote (anything more came from /dev/zero)", got, written)
	}
	if got := m["openclaw_log_lines_total{level=error}"]; got != float64(errorLines) {
		t.Errorf("error lines = %v, want the %d written to the real log", got, errorLines)
	}
	if got := m["openclaw_log_lines_total{level=unknown}"]; got != 0 {
		t.Errorf("%v unknown lines: bytes that are not the gateway's were read", got)
	}
}

// TestFinderAgreesWithIndex: the rare-byte search finds what bytes.Index
// finds, at the edges too (rare byte first or last, overlaps, no match).
func TestFinderAgreesWithIndex(t *testing.T) {
	hay := []string{"", "EBADF", "xEBADF", "EBADFx", "EEBADF", "EBADEBADF", `"logLevelName":"INFO"`, "giving up aftergiving up after", "no match here"}
	needles := []string{"EBADF", "giving up after", `"logLevelName":"`, "x", "EADDRINUSE", "a"}
	for _, h := range hay {
		for _, n := range needles {
			f := newFinder([]byte(n))
			if got, want := f.index([]byte(h)), bytes.Index([]byte(h), []byte(n)); got != want {
				t.Errorf("finder(%q).index(%q) = %d, want %d", n, h, got, want)
			}
		}
	}
}

// TestDirectorySizeRefreshedInTheBackground: a scrape reports the last
// size and starts a refresh it does not wait for; a later scrape sees it.
func TestDirectorySizeRefreshedInTheBackground(t *testing.T) {
	dir := t.TempDir()
	c := collectorFor(t, dir)
	key := "openclaw_log_directory_size_bytes{directory=" + dir + "}"
	first, err := scrapeWithin(t, c)
	if err != nil {
		t.Fatal(err)
	}
	size, ok := first[key]
	if !ok {
		t.Fatalf("no %s in %v", key, first)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.log"), make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	sizesEvery = 0
	t.Cleanup(func() { sizesEvery = 5 * time.Second })
	if got, _ := scrapeWithin(t, c); got[key] != size {
		t.Errorf("the scrape that starts the refresh reported %g, want the last size %g", got[key], size)
	}
	deadline := time.Now().Add(hangDeadline)
	for {
		got, _ := scrapeWithin(t, c)
		if got[key] == size+1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("size %g, want %g after a background refresh", got[key], size+1000)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
