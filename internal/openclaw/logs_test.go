package openclaw

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// realLog is a file log written by openclaw 2026.9.6.
const realLog = "../../testdata/tslog/openclaw-2026.9.6.log"

func TestDecodeRealGatewayLines(t *testing.T) {
	data, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	subsystems := map[string]bool{}
	for sc.Scan() {
		var r Record
		if err := DecodeRecord(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if r.Time.IsZero() || r.Message == "" {
			t.Errorf("line %d: %+v has no time or message", n+1, r)
		}
		subsystems[r.Subsystem] = true
		n++
	}
	if n != 40 {
		t.Fatalf("decoded %d lines, want 40", n)
	}
	for _, want := range []string{"gateway", "gateway/heartbeat", "cron"} {
		if !subsystems[want] {
			t.Errorf("subsystem %q not seen in %v", want, subsystems)
		}
	}
}

func TestDecodeRecord(t *testing.T) {
	cases := []struct {
		line    string
		want    Record
		wantErr bool
	}{
		{
			line: `{"0":"{\"subsystem\":\"gateway\"}","1":"starting...","_meta":{"date":"2026-11-20T22:30:27.785Z","logLevelId":3,"logLevelName":"INFO","name":"{\"subsystem\":\"gateway\"}"},"time":"2026-11-20T22:30:27.785+00:00","message":"starting..."}`,
			want: Record{Time: time.Date(2026, 11, 20, 22, 30, 27, 785e6, time.UTC), Level: LevelInfo, Subsystem: "gateway", Message: "starting..."},
		},
		{ // an object argument first, the message second; no top-level message
			line: `{"0":"{\"module\":\"cron\"}","1":{"jobId":"x"},"2":"cron: job added","_meta":{"logLevelName":"WARN","name":"{\"module\":\"cron\"}"},"time":"2026-11-20T22:41:56.473+01:00"}`,
			want: Record{Time: time.Date(2026, 11, 20, 21, 41, 56, 473e6, time.UTC), Level: LevelWarn, Subsystem: "cron"},
		},
		{ // level by id only, time from _meta.date, plain logger name
			line: `{"1":"boom","_meta":{"logLevelId":5,"name":"agent","date":"2026-11-20T22:00:00.000Z"}}`,
			want: Record{Time: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC), Level: LevelError, Subsystem: "agent", Message: "boom"},
		},
		{line: `not json`, wantErr: true},
		{line: `{"_meta":{"logLevelName":"LOUD"},"time":"2026-11-20T22:00:00Z"}`, wantErr: true},
		{line: `{"message":"x","time":"2026-11-20T22:00:00Z"}`, wantErr: true},
		{line: `{"_meta":{"logLevelName":"INFO"},"time":"yesterday"}`, wantErr: true},
	}
	for _, c := range cases {
		var r Record
		err := DecodeRecord([]byte(c.line), &r)
		if (err != nil) != c.wantErr {
			t.Errorf("DecodeRecord(%s) error = %v, wantErr %v", c.line, err, c.wantErr)
			continue
		}
		if !c.wantErr && (!r.Time.Equal(c.want.Time) || r.Level != c.want.Level || r.Subsystem != c.want.Subsystem || r.Message != c.want.Message) {
			t.Errorf("DecodeRecord(%s) = %+v, want %+v", c.line, r, c.want)
		}
	}
}

func TestEncodeRecordMatchesRealShape(t *testing.T) {
	// The simulator's lines have the real gateway's keys in the real order.
	real, err := os.ReadFile(realLog)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(real, []byte("\n"))
	in := Record{Time: time.Date(2026, 11, 20, 22, 41, 50, 552e6, time.UTC), Level: LevelInfo, Subsystem: "gateway", Message: "loading configuration…"}
	enc := EncodeRecord(in, "vm")
	if keys(t, enc) != keys(t, first) {
		t.Errorf("key order differs:\n sim  %s\n real %s", keys(t, enc), keys(t, first))
	}
	var out Record
	if err := DecodeRecord(enc, &out); err != nil || !out.Time.Equal(in.Time) || out.Level != in.Level || out.Subsystem != in.Subsystem || out.Message != in.Message {
		t.Errorf("round trip = %+v, %v; want %+v", out, err, in)
	}
}

// keys lists an object's keys, then its _meta's, in the order they appear.
func keys(t *testing.T, line []byte) string {
	t.Helper()
	order := func(obj []byte) []string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(obj, &m); err != nil {
			t.Fatal(err)
		}
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Slice(ks, func(i, j int) bool {
			return bytes.Index(obj, []byte(`"`+ks[i]+`":`)) < bytes.Index(obj, []byte(`"`+ks[j]+`":`))
		})
		return ks
	}
	var top struct {
		Meta json.RawMessage `json:"_meta"`
	}
	if err := json.Unmarshal(line, &top); err != nil {
		t.Fatal(err)
	}
	return strings.Join(order(line), ",") + " / " + strings.Join(order(top.Meta), ",")
}

func TestLogFileNames(t *testing.T) {
	day := time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)
	if got := LogFileName("", day); got != "openclaw-2026-11-20.log" {
		t.Errorf("LogFileName = %s", got)
	}
	if got := LogFileName("work", day); got != "openclaw-work-2026-11-20.log" {
		t.Errorf("LogFileName(work) = %s", got)
	}
	cases := []struct {
		name, profile, date string
		ok                  bool
	}{
		{"openclaw-2026-11-20.log", "", "2026-11-20", true},
		{"openclaw-work-2026-11-20.log", "work", "2026-11-20", true},
		{"openclaw-my-lab-2026-01-02.log", "my-lab", "2026-01-02", true},
		{"openclaw-2026-11-20.1.log", "", "", false},
		{"openclaw-work-2026-11-20.5.log", "", "", false},
		{"openclaw-2026-11-20.log.gz", "", "", false},
		{"gateway.err.log", "", "", false},
		{"openclaw.log", "", "", false},
	}
	for _, c := range cases {
		p, d, ok := ParseLogFileName(c.name)
		if p != c.profile || d != c.date || ok != c.ok {
			t.Errorf("ParseLogFileName(%s) = %q %q %v", c.name, p, d, ok)
		}
	}
}

func TestLogArchiveNames(t *testing.T) {
	for name, want := range map[string]bool{
		"openclaw-2026-11-20.log": true, "openclaw-work-2026-11-20.1.log": true, "openclaw-2026-11-20.log.gz": true,
		"openclaw-2026-11-20.2.log.gz": true, "gateway.err.log": false, "openclaw-x.txt": false, "openclaw.log": false,
	} {
		if IsLogName(name) != want {
			t.Errorf("IsLogName(%s) = %v", name, !want)
		}
	}
	if !IsCompressedLog("openclaw-2026-11-20.log.gz") || IsCompressedLog("openclaw-2026-11-20.log") {
		t.Error("IsCompressedLog mixes up .log and .log.gz")
	}
	for i, want := range []string{"openclaw-2026-11-20.1.log.gz", "openclaw-2026-11-20.1.1.log.gz", "openclaw-2026-11-20.1.2.log.gz"} {
		if got := CompressedLogName("openclaw-2026-11-20.1.log", i); got != want {
			t.Errorf("CompressedLogName(…, %d) = %s, want %s", i, got, want)
		}
	}
}

func TestNewestLogGoesByModTime(t *testing.T) {
	primary, fallback := t.TempDir(), t.TempDir()
	base := time.Now().Add(-time.Hour)
	files := []struct {
		dir, name string
		age       time.Duration
	}{
		{primary, "openclaw-2026-11-21.log", 30 * time.Minute}, // newer date, older file
		{primary, "openclaw-2026-11-20.log", 1 * time.Minute},  // kept writing after midnight
		{primary, "openclaw-2026-11-20.1.log", 0},              // archive: never the live file
		{fallback, "openclaw-work-2026-11-20.log", 0},          // another profile
		{primary, "notes.txt", 0},
	}
	for _, f := range files {
		p := filepath.Join(f.dir, f.name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := base.Add(time.Hour - f.age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	got, err := NewestLog("", primary, fallback, filepath.Join(primary, "missing"))
	if err != nil || filepath.Base(got.Path) != "openclaw-2026-11-20.log" {
		t.Errorf("NewestLog = %+v, %v", got, err)
	}
	got, err = NewestLog("*", primary, fallback)
	if err != nil || got.Profile != "work" {
		t.Errorf("NewestLog(*) = %+v, %v", got, err)
	}
	if _, err := NewestLog("", t.TempDir()); err == nil {
		t.Error("NewestLog in an empty dir: no error")
	}
}

func TestLevels(t *testing.T) {
	for i, name := range []string{"SILLY", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"} {
		l, ok := ParseLevel(name)
		if !ok || int(l) != i || l.String() != name {
			t.Errorf("level %s: %v %v %s", name, l, ok, l)
		}
	}
}

// BenchmarkDecodeRecord compares DecodeRecord with decoding each line into a
// generic map, the reference a naive tailer would use.
func BenchmarkDecodeRecord(b *testing.B) {
	data, err := os.ReadFile(realLog)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		var r Record
		for i := 0; b.Loop(); i++ {
			if err := DecodeRecord(lines[i%len(lines)], &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map-reference", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			var m map[string]any
			if err := json.Unmarshal(lines[i%len(lines)], &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
