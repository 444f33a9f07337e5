package gatewaysim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

const simToken = "sim-token"

func probe(t *testing.T, s *simtest.Sim, token string, timeout time.Duration) (*openclaw.HealthSnapshot, openclaw.RPCTimings, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return openclaw.ProbeHealth(ctx, "127.0.0.1:"+strconv.Itoa(s.Port), token)
}

func reason(err error) string {
	var re *openclaw.RPCError
	if errors.As(err, &re) {
		return re.Reason
	}
	return ""
}

// rawSession speaks the protocol frame by frame, for what the client hides.
type rawSession struct {
	t   *testing.T
	ctx context.Context
	c   *websocket.Conn
}

func dialRaw(t *testing.T, s *simtest.Sim, path string) *rawSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(s.Port)+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &rawSession{t: t, ctx: ctx, c: c}
}

func (r *rawSession) read() map[string]any {
	r.t.Helper()
	_, data, err := r.c.Read(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		r.t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

func (r *rawSession) send(frame string) {
	r.t.Helper()
	if err := r.c.Write(r.ctx, websocket.MessageText, []byte(frame)); err != nil {
		r.t.Fatal(err)
	}
}

func connectFrame(token string) string {
	return `{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,` +
		`"client":{"id":"openclaw-probe","version":"test","platform":"linux","mode":"probe"},` +
		`"role":"operator","scopes":["operator.read"],"auth":{"token":"` + token + `"}}}`
}

func TestRPCFrames(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Token: simToken})
	r := dialRaw(t, s, "/any/path") // every path upgrades, as on the gateway
	ch := r.read()
	if ch["type"] != "event" || ch["event"] != "connect.challenge" {
		t.Fatalf("first frame = %v", ch)
	}
	if p, _ := ch["payload"].(map[string]any); p["nonce"] == "" || p["ts"] == nil {
		t.Errorf("challenge payload = %v", p)
	}
	r.send(connectFrame(simToken))
	hello := r.read()
	p, _ := hello["payload"].(map[string]any)
	if hello["type"] != "res" || hello["id"] != "c1" || hello["ok"] != true || p["type"] != "hello-ok" || p["protocol"] != 4.0 {
		t.Fatalf("hello = %v", hello)
	}
	if auth, _ := p["auth"].(map[string]any); auth["role"] != "operator" || len(auth["scopes"].([]any)) != 0 {
		t.Errorf("hello-ok auth = %v, want operator with no scope (no device identity)", auth)
	}
	r.send(`{"type":"req","id":"h1","method":"health","params":{}}`)
	res := r.read()
	if res["id"] != "h1" || res["ok"] != true {
		t.Fatalf("health = %v", res)
	}
	r.send(`{"type":"req","id":"s1","method":"status","params":{}}`)
	res = r.read()
	if e, _ := res["error"].(map[string]any); res["ok"] != false || e["code"] != "FORBIDDEN" || e["message"] != "missing scope: operator.read" {
		t.Errorf("status = %v, want refused for want of operator.read", res)
	}
}

func TestRPCRefusals(t *testing.T) {
	cases := []struct {
		name, simToken, frame, code, detail string
		close                               websocket.StatusCode
	}{
		{"wrong token", simToken, connectFrame("wrong"), "INVALID_REQUEST", "AUTH_TOKEN_MISMATCH", websocket.StatusPolicyViolation},
		{"no token given", simToken, strings.Replace(connectFrame(""), `,"auth":{"token":""}`, "", 1), "NOT_PAIRED", "DEVICE_IDENTITY_REQUIRED", websocket.StatusPolicyViolation},
		{"no auth configured", "", connectFrame("anything"), "NOT_PAIRED", "DEVICE_IDENTITY_REQUIRED", websocket.StatusPolicyViolation},
		{"protocol mismatch", simToken, strings.Replace(connectFrame(simToken), `"minProtocol":4,"maxProtocol":4`, `"minProtocol":9,"maxProtocol":9`, 1), "INVALID_REQUEST", "PROTOCOL_MISMATCH", websocket.StatusProtocolError},
		{"unknown client", simToken, strings.Replace(connectFrame(simToken), "openclaw-probe", "clawwatch", 1), "INVALID_REQUEST", "", websocket.StatusPolicyViolation},
		{"first request not connect", simToken, `{"type":"req","id":"x","method":"health","params":{}}`, "INVALID_REQUEST", "", websocket.StatusPolicyViolation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := simtest.Start(t, simtest.Options{Token: c.simToken})
			r := dialRaw(t, s, "/")
			r.read() // challenge
			r.send(c.frame)
			res := r.read()
			e, _ := res["error"].(map[string]any)
			d, _ := e["details"].(map[string]any)
			if res["ok"] != false || e["code"] != c.code || (c.detail != "" && d["code"] != c.detail) {
				t.Errorf("answer = %v, want %s/%s", res, c.code, c.detail)
			}
			if _, _, err := r.c.Read(r.ctx); websocket.CloseStatus(err) != c.close {
				t.Errorf("after the refusal: %v, want close %d", err, c.close)
			}
		})
	}
}

func TestRPCProbe(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Token: simToken})
	snap, tm, err := probe(t, s, simToken, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if snap.ProtocolVersion != 4 || snap.ServerVersion != "2026.9.6" || tm.Call <= 0 {
		t.Errorf("probe = %+v %+v", snap, tm)
	}
	if len(snap.Channels) != 2 || snap.Sessions != 2 || snap.PluginsLoaded != 16 || snap.PluginsErrors != 0 ||
		!snap.ModelRuntimeReported || snap.ModelRuntimeDegraded || !snap.EventLoopReported || snap.ConfigHotReloadStatus != "active" {
		t.Errorf("snapshot = %+v", snap)
	}
	for _, ch := range snap.Channels {
		if ch.Account != "default" || ch.Connected == nil || !*ch.Connected || ch.Running == nil || !*ch.Running ||
			ch.Restarts == nil || *ch.Restarts != 0 || ch.LastInboundAt == nil || ch.LastInboundAt.After(time.Now()) {
			t.Errorf("channel %+v", ch)
		}
	}
	if _, _, err := probe(t, s, "wrong", 10*time.Second); reason(err) != openclaw.RPCReasonAuth {
		t.Errorf("probe with a wrong token: %v, want auth", err)
	}
}

// rpc_hang is the hidden hang: the HTTP probes stay fast and happy, the log
// stays quiet, and the RPC never answers.
func TestRPCHang(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Token: simToken})
	logBefore := logSize(t, s)
	for _, c := range []struct{ spec, phase string }{
		{`{"kind":"rpc_hang"}`, "connect"},
		{`{"kind":"rpc_hang","at":"health"}`, "health"},
	} {
		s.Fault(t, c.spec)
		_, tm, err := probe(t, s, simToken, 500*time.Millisecond)
		if reason(err) != openclaw.RPCReasonTimeout {
			t.Fatalf("%s: probe error %v, want a timeout", c.spec, err)
		}
		if answeredHandshake := tm.Handshake > 0; answeredHandshake != (c.phase == "health") {
			t.Errorf("%s: timings %+v, want the %s to hang", c.spec, tm, c.phase)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, _, err := get(s.URL+path, 2*time.Second); err != nil || code != 200 {
				t.Errorf("%s during %s: %d %v", path, c.spec, code, err)
			}
		}
	}
	if after := logSize(t, s); after != logBefore {
		t.Errorf("the gateway log grew from %d to %d bytes during rpc_hang", logBefore, after)
	}
	if code, _ := s.Control(t, http.MethodDelete, "/faults/rpc_hang", ""); code != 204 {
		t.Fatalf("DELETE /faults/rpc_hang = %d", code)
	}
	if _, _, err := probe(t, s, simToken, 10*time.Second); err != nil {
		t.Errorf("probe after clearing rpc_hang: %v", err)
	}
}

func logSize(t *testing.T, s *simtest.Sim) int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.LogDir, "openclaw-*.log"))
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

func TestRPCHealthFaults(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Token: simToken})
	s.Fault(t, `{"kind":"channel_down","channel":"discord"}`)
	s.Fault(t, `{"kind":"model_runtime_degraded","pending_agents":["main","ops"]}`)
	s.Fault(t, `{"kind":"plugin_error","plugin":"telegram"}`)
	snap, _, err := probe(t, s, simToken, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range snap.Channels {
		down := ch.Channel == "discord"
		if ch.Connected == nil || *ch.Connected == down || ch.Restarts == nil || (*ch.Restarts > 0) != down {
			t.Errorf("channel %s: connected %v restarts %v", ch.Channel, ch.Connected, ch.Restarts)
		}
	}
	if !snap.ModelRuntimeDegraded || snap.ModelRuntimePendingAgents != 2 || snap.PluginsErrors != 1 || snap.PluginsLoaded != 15 {
		t.Errorf("snapshot = %+v", snap)
	}
	// None of it shows on the HTTP probes.
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _, err := get(s.URL+path, 2*time.Second); err != nil || code != 200 {
			t.Errorf("%s: %d %v", path, code, err)
		}
	}
	s.Control(t, http.MethodDelete, "/faults", "")
	snap, _, err = probe(t, s, simToken, 10*time.Second)
	if err != nil || snap.ModelRuntimeDegraded || snap.PluginsErrors != 0 || *snap.Channels[0].Connected != true {
		t.Errorf("after clearing: %+v %v", snap, err)
	}
}

// The whole-loop hang freezes the RPC too: the upgrade is never answered.
func TestRPCDuringHang(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Token: simToken})
	s.Fault(t, `{"kind":"hang"}`)
	if _, tm, err := probe(t, s, simToken, 300*time.Millisecond); reason(err) != openclaw.RPCReasonTimeout || tm.Connect != 0 {
		t.Errorf("probe of a hung gateway: %v %+v, want a timeout while connecting", err, tm)
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := simtest.Start(t, simtest.Options{Args: []string{"--token-file", file}})
	if _, _, err := probe(t, s, "from-file", 10*time.Second); err != nil {
		t.Errorf("probe with the file's token: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad, err := simtest.Launch(t, simtest.Options{Args: []string{"--token-file", empty}})
	if err != nil {
		t.Fatal(err)
	}
	if code := bad.Wait(t, 30*time.Second); code != 2 || !strings.Contains(bad.Output(), "--token-file: "+empty+": empty") {
		t.Errorf("empty token file: exit %d: %s", code, bad.Output())
	}
}

// channels.stop and channels.start: operator.admin for the local CLI only,
// an unknown channel refused, a down channel reconnected by its restart
// (not when the fault is sticky), safe mode lifted for the channel an
// operator starts by hand.
func TestRPCChannelControl(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Token: simToken})
	addr := "127.0.0.1:" + strconv.Itoa(s.Port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	channel := func(name string) openclaw.ChannelHealth {
		t.Helper()
		snap, _, err := probe(t, s, simToken, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ch, ok := snap.Channel(name, "default")
		if !ok {
			t.Fatalf("no %s/default in %+v", name, snap.Channels)
		}
		return ch
	}
	connected := func(ch openclaw.ChannelHealth) bool { return ch.Connected != nil && *ch.Connected }

	if _, err := openclaw.StopChannel(ctx, addr, "wrong", "telegram", ""); reason(err) != openclaw.RPCReasonAuth {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := openclaw.StopChannel(ctx, addr, simToken, "irc", ""); err == nil || !strings.Contains(err.Error(), "invalid channels.stop channel") {
		t.Errorf("unknown channel: %v", err)
	}

	s.Fault(t, `{"kind":"channel_down","channel":"telegram"}`)
	if stop, err := openclaw.StopChannel(ctx, addr, simToken, "telegram", "default"); err != nil || !stop.Stopped {
		t.Fatalf("stop: %+v %v", stop, err)
	}
	if ch := channel("telegram"); ch.Running == nil || *ch.Running || connected(ch) {
		t.Errorf("after stop: %+v", ch)
	}
	start, err := openclaw.StartChannel(ctx, addr, simToken, "telegram", "default")
	if err != nil || !start.Started || start.Outcome.Status != "handed-off" {
		t.Fatalf("start: %+v %v", start, err)
	}
	if ch := channel("telegram"); !connected(ch) {
		t.Errorf("after a restart of the down channel: %+v", ch)
	}
	if start, err := openclaw.StartChannel(ctx, addr, simToken, "telegram", ""); err != nil || start.Outcome.Reason != "task-owned" {
		t.Errorf("start of a running channel: %+v %v", start, err)
	}

	s.Fault(t, `{"kind":"channel_down","channel":"discord","sticky":true}`)
	_, _ = openclaw.StopChannel(ctx, addr, simToken, "discord", "")
	_, _ = openclaw.StartChannel(ctx, addr, simToken, "discord", "")
	if ch := channel("discord"); connected(ch) {
		t.Errorf("a sticky fault healed by a channel restart: %+v", ch)
	}
	s.Control(t, http.MethodDelete, "/faults", "")

	s.Fault(t, `{"kind":"safe_mode"}`)
	snap, _, err := probe(t, s, simToken, 10*time.Second)
	if err != nil || snap.SafeModeAccounts() != 2 {
		t.Fatalf("safe mode: %d accounts held (%v), want 2", snap.SafeModeAccounts(), err)
	}
	if start, err := openclaw.StartChannel(ctx, addr, simToken, "discord", ""); err != nil || start.Outcome.Status != "handed-off" {
		t.Errorf("manual start in safe mode: %+v %v", start, err)
	}
	if ch := channel("discord"); ch.SafeMode || !connected(ch) {
		t.Errorf("discord after its manual start: %+v", ch)
	}
	if ch := channel("telegram"); !ch.SafeMode {
		t.Errorf("telegram is no longer held: %+v", ch)
	}
}

// sessions.list with activeOnly, as the remediator asks it for active agent
// turns: refused to the probe's identity (no scope), none while idle, one
// while the agent_turn fault is in force.
func TestRPCActiveTurns(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Token: simToken})
	addr := "127.0.0.1:" + strconv.Itoa(s.Port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := openclaw.ActiveTurns(ctx, addr, simToken); err != nil || n != 0 {
		t.Errorf("idle: %d turns, %v", n, err)
	}
	s.Fault(t, `{"kind":"agent_turn"}`)
	if n, err := openclaw.ActiveTurns(ctx, addr, simToken); err != nil || n != 1 {
		t.Errorf("a turn in flight: %d turns, %v", n, err)
	}
	if _, err := openclaw.ActiveTurns(ctx, addr, "wrong"); reason(err) != openclaw.RPCReasonAuth {
		t.Errorf("wrong token: %v", err)
	}
	s.Control(t, http.MethodDelete, "/faults", "")
	if n, err := openclaw.ActiveTurns(ctx, addr, simToken); err != nil || n != 0 {
		t.Errorf("after the turn: %d turns, %v", n, err)
	}
}
