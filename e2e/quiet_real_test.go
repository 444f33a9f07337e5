//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// TestActiveTurnsConformance holds the simulator's active agent turns to
// the real gateway's (docs/openclaw.md, "Active agent turns"): with a turn
// in flight (the real gateway's model on loopback holds its answer; the
// simulator's agent_turn fault) sessions.list with activeOnly counts one,
// before and after none, in the same shape, and openclaw.ActiveTurns reads
// both.
func TestActiveTurnsConformance(t *testing.T) {
	t.Parallel()
	openclawDir(t) // fail (CI) or skip before starting anything
	shapes := map[string]map[string]string{"real": {}, "sim": {}}
	t.Run("turns", func(t *testing.T) {
		for _, name := range []string{"real", "sim"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				home := t.TempDir()
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
				defer cancel()
				var (
					g     *gateway
					begin func()
					end   func()
				)
				if name == "real" {
					model := newSlowModel(t)
					writeConfig(t, home, modelConfig(model.url))
					g = startReal(t, home)
					var turn <-chan turnAnswer
					var round *modelRound
					begin = func() { round = model.hold(); turn = startTurn(ctx, t, g, round) }
					end = func() {
						close(round.release)
						if a := <-turn; a.err != nil || !strings.HasPrefix(a.body, "200 ") {
							t.Errorf("the agent turn: %+v", a)
						}
					}
				} else {
					s := simtest.Start(t, simtest.Options{StateDir: filepath.Join(home, ".openclaw"), Version: openclawVersion, Token: conformanceToken})
					g = &gateway{name: "sim", port: s.Port, url: s.URL}
					begin = func() { s.Fault(t, `{"kind":"agent_turn"}`) }
					end = func() {
						if code, body := s.Control(t, http.MethodDelete, "/faults/agent_turn", ""); code != http.StatusNoContent {
							t.Fatalf("DELETE /faults/agent_turn: %d %s", code, body)
						}
					}
				}
				checkActiveTurns(ctx, t, g, begin, end, shapes[name])
			})
		}
	})
	t.Run("same shapes", func(t *testing.T) { sameShapes(t, "active-turn ", shapes) })
}

// checkActiveTurns asks g for its active turns idle, during the turn that
// begin starts, and after end (the count may lag the answer a moment).
func checkActiveTurns(ctx context.Context, t *testing.T, g *gateway, begin, end func(), shapes map[string]string) {
	addr := fmt.Sprintf("127.0.0.1:%d", g.port)
	ask := func(when string, want int) {
		t.Helper()
		var raw json.RawMessage
		// The count settles a moment after the answer.
		simtest.Eventually(t, 30*time.Second, func() error {
			raw = nil
			if err := openclaw.AdminCall(ctx, addr, conformanceToken, "sessions.list", map[string]any{"activeOnly": true, "limit": 1}, &raw); err != nil {
				return fmt.Errorf("%s: sessions.list: %w", when, err)
			}
			if n, err := openclaw.ParseActiveSessions(raw); err != nil || n != want {
				return fmt.Errorf("%s: %d active sessions (%v), want %d: %.500s", when, n, err, want, raw)
			}
			return nil
		})
		if n, err := openclaw.ActiveTurns(ctx, addr, conformanceToken); err != nil || n != want {
			t.Errorf("%s: ActiveTurns %d, %v; want %d", when, n, err, want)
		}
		shapes["sessions.list "+when] = activeShape(t, raw)
		if snap, _, err := openclaw.ProbeHealth(ctx, addr, conformanceToken); err == nil {
			t.Logf("%s: health sessions %d (it cannot tell a turn), sessions.list activeOnly %.300s", when, snap.Sessions, raw)
		}
	}
	ask("idle", 0)
	begin()
	ask("turn", 1)
	end()
	ask("after", 0)
}

// activeShape is the JSON types of what clawwatch reads of an activeOnly
// sessions.list answer and of its first row.
func activeShape(t *testing.T, raw json.RawMessage) string {
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("sessions.list: %v", err)
	}
	typ := func(v any) string { return fmt.Sprintf("%T", v) }
	out := map[string]string{}
	for _, k := range []string{"count", "totalCount", "hasMore", "sessions"} {
		out[k] = typ(p[k])
	}
	if rows, _ := p["sessions"].([]any); len(rows) > 0 {
		row, _ := rows[0].(map[string]any)
		for _, k := range []string{"key", "agentId", "sessionId", "status", "startedAt", "updatedAt"} {
			out["sessions[0]."+k] = typ(row[k])
		}
		out["sessions[0].status value"], _ = row["status"].(string)
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(out)) {
		parts = append(parts, k+"="+out[k])
	}
	return strings.Join(parts, " ")
}
