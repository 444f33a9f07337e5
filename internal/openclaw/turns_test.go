package openclaw

import (
	"os"
	"path/filepath"
	"testing"
)

// The answers are the real gateway's, 2026.9.6 (TestActiveTurnsConformance
// records the shape; rows shortened): one turn in flight, then none.
func TestParseActiveSessions(t *testing.T) {
	for file, want := range map[string]int{"sessions-list-active-turn.json": 1, "sessions-list-active-idle.json": 0} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rpc", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseActiveSessions(b)
		if err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", file, got, err, want)
		}
	}
	for _, bad := range []string{`{}`, `[]`, `{"count":-1}`, `{"totalCount":"1"}`} {
		if n, err := ParseActiveSessions([]byte(bad)); err == nil {
			t.Errorf("%s: %d, no error", bad, n)
		}
	}
	if n, err := ParseActiveSessions([]byte(`{"count":2,"sessions":[]}`)); err != nil || n != 2 {
		t.Errorf("count only: %d %v", n, err)
	}
}
