package openclaw

import (
	"os"
	"strings"
	"testing"
)

func FuzzParseLock(f *testing.F) {
	if real, err := os.ReadFile("../../testdata/locks/gateway-2026.9.6.lock"); err == nil {
		f.Add(real)
	}
	f.Add(Lock{PID: 1, StartTime: 2}.Marshal())
	f.Add([]byte(`{"pid":5}` + "\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock(data)
		if err != nil {
			return
		}
		if l.PID <= 0 {
			t.Fatalf("accepted pid %d", l.PID)
		}
		// What parses survives our own encoding.
		again, err := ParseLock(l.Marshal())
		if err != nil || again != l {
			t.Fatalf("round trip of %+v: %+v, %v", l, again, err)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	if real, err := os.ReadFile(realLog); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(real)), "\n")[:10] {
			f.Add([]byte(line))
		}
	}
	f.Add([]byte(`{"1":"x","_meta":{"logLevelId":5},"time":"2026-11-20T22:00:00Z"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		if err := DecodeRecord(line, &r); err != nil {
			return
		}
		if r.Level > LevelFatal || r.Time.IsZero() {
			t.Fatalf("decoded %+v", r)
		}
	})
}
