package logs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/exporter/config"
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
