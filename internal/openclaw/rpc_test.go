package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// A gateway that speaks the protocol as the real one does; script decides
// what it answers after the challenge.
type fakeGateway struct {
	token string
	// script runs after the challenge; the default is a good gateway.
	script func(ctx context.Context, t *testing.T, c *websocket.Conn)
}

func (g *fakeGateway) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		ctx := context.Background()
		send(ctx, c, `{"type":"event","event":"connect.challenge","payload":{"nonce":"n-1","ts":1796089906667}}`)
		if g.script != nil {
			g.script(ctx, t, c)
			return
		}
		g.goodGateway(ctx, t, c)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(ctx context.Context, c *websocket.Conn, frame string) {
	_ = c.Write(ctx, websocket.MessageText, []byte(frame))
}

// recv reads a request frame; ok is false when the client went away.
func recv(ctx context.Context, c *websocket.Conn) (map[string]any, bool) {
	_, data, err := c.Read(ctx)
	if err != nil {
		return nil, false
	}
	var f map[string]any
	if json.Unmarshal(data, &f) != nil {
		return nil, false
	}
	return f, true
}

const helloOKFrame = `{"type":"res","id":"clawwatch-connect","ok":true,"payload":{"type":"hello-ok","protocol":4,"server":{"version":"2026.9.6","connId":"c-1"},"features":{"methods":["health"],"events":["tick"]},"snapshot":{},"auth":{"role":"operator","scopes":[]},"policy":{"maxPayload":26214400,"maxBufferedBytes":52428800,"tickIntervalMs":30000}}}`

func (g *fakeGateway) goodGateway(ctx context.Context, t *testing.T, c *websocket.Conn) {
	f, ok := recv(ctx, c)
	if !ok {
		return
	}
	if !g.checkConnect(t, c, f) {
		return
	}
	send(ctx, c, helloOKFrame)
	// Broadcast events arrive between requests and answers.
	send(ctx, c, `{"type":"event","event":"tick","payload":{"ts":1}}`)
	f, ok = recv(ctx, c)
	if !ok {
		return
	}
	if f["method"] != "health" || f["type"] != "req" {
		t.Errorf("second request = %v, want health", f)
	}
	send(ctx, c, `{"type":"event","event":"health","payload":{}}`)
	payload, err := os.ReadFile("../../testdata/rpc/health-channels.json")
	if err != nil {
		t.Error(err)
		return
	}
	send(ctx, c, `{"type":"res","id":"`+f["id"].(string)+`","ok":true,"payload":`+string(payload)+`}`)
	_, _ = recv(ctx, c) // until the client closes
}

// checkConnect holds the connect request against the protocol and answers
// a wrong token the way the gateway does.
func (g *fakeGateway) checkConnect(t *testing.T, c *websocket.Conn, f map[string]any) bool {
	p, _ := f["params"].(map[string]any)
	client, _ := p["client"].(map[string]any)
	if f["type"] != "req" || f["method"] != "connect" || p["role"] != "operator" ||
		client["id"] != "openclaw-probe" || client["mode"] != "probe" || p["minProtocol"] != 4.0 || p["maxProtocol"] != 4.0 {
		t.Errorf("connect request = %v", f)
	}
	if scopes, _ := json.Marshal(p["scopes"]); string(scopes) != `["operator.read"]` {
		t.Errorf("scopes = %s, want operator.read only", scopes)
	}
	auth, _ := p["auth"].(map[string]any)
	if auth["token"] != g.token {
		send(context.Background(), c, `{"type":"res","id":"`+f["id"].(string)+`","ok":false,"error":{"code":"INVALID_REQUEST","message":"unauthorized: gateway token mismatch (provide gateway auth token)","details":{"code":"AUTH_TOKEN_MISMATCH","authReason":"token_mismatch","canRetryWithDeviceToken":false,"recommendedNextStep":"update_auth_credentials"}}}`)
		c.Close(websocket.StatusPolicyViolation, "unauthorized: gateway token mismatch")
		return false
	}
	return true
}

func addrOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func TestProbeHealthSuccess(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g := &fakeGateway{token: "T"}
	srv := g.serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, tm, err := ProbeHealth(ctx, addrOf(srv), "T")
	if err != nil {
		t.Fatal(err)
	}
	if snap.ProtocolVersion != 4 || snap.ServerVersion != "2026.9.6" {
		t.Errorf("protocol %d server %q", snap.ProtocolVersion, snap.ServerVersion)
	}
	if tm.Connect <= 0 || tm.Handshake <= 0 || tm.Call <= 0 {
		t.Errorf("timings = %+v, want every phase measured", tm)
	}
	if snap.Sessions != 7 || snap.Agents != 2 || snap.PluginsErrors != 1 || snap.PluginsUnavailable != 1 {
		t.Errorf("snapshot = %+v", snap)
	}
	if !json.Valid(snap.Raw) || !strings.Contains(string(snap.Raw), `"channelOrder"`) {
		t.Errorf("Raw = %.100s", snap.Raw)
	}
	srv.Close()
}

func TestParseHealthRealGateway(t *testing.T) {
	payload, err := os.ReadFile("../../testdata/rpc/health-2026.9.6.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseHealth(payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Channels) != 0 || s.Agents != 1 || s.Sessions != 0 || s.PluginsLoaded != 14 || s.PluginsErrors != 0 ||
		!s.ModelRuntimeReported || s.ModelRuntimeDegraded || !s.EventLoopReported || s.EventLoopDegraded ||
		s.EventLoopDelayP99Seconds != 0.0546 || s.ConfigHotReloadStatus != "active" || s.TakenAt.UnixMilli() != 1796089882329 {
		t.Errorf("ParseHealth(real) = %+v", s)
	}
	if s.EventLoopReasons == nil || len(s.EventLoopReasons) != 0 {
		t.Errorf("reasons = %#v, want empty", s.EventLoopReasons)
	}
}

func TestParseHealthChannels(t *testing.T) {
	payload, err := os.ReadFile("../../testdata/rpc/health-channels.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseHealth(payload)
	if err != nil {
		t.Fatal(err)
	}
	b := func(v bool) *bool { return &v }
	i := func(v int) *int { return &v }
	inbound := time.UnixMilli(1796089940000)
	want := []ChannelHealth{
		// An entry without accounts is its one account; "yes" is not a bool.
		{Channel: "discord", Account: "bot", Configured: b(true), Running: b(false)},
		{Channel: "telegram", Account: "default", Configured: b(true), Running: b(true), Connected: b(true), LastInboundAt: &inbound, Restarts: i(0)},
		{Channel: "telegram", Account: "work", Configured: b(true), Running: b(true), Connected: b(false), Restarts: i(3), LastError: "ETIMEDOUT"},
	}
	if got, _ := json.Marshal(s.Channels); string(got) != mustJSON(t, want) {
		t.Errorf("channels:\n got %s\nwant %s", got, mustJSON(t, want))
	}
	if !s.ModelRuntimeDegraded || s.ModelRuntimePendingAgents != 1 || !s.EventLoopDegraded ||
		strings.Join(s.EventLoopReasons, ",") != "event_loop_delay,cpu" || s.EventLoopDelayMaxSeconds != 2.25 ||
		s.ConfigHotReloadStatus != "disabled" || s.PluginsLoaded != 2 {
		t.Errorf("snapshot = %+v", s)
	}
}

func TestParseHealthAbsentBlocks(t *testing.T) {
	s, err := ParseHealth(json.RawMessage(`{"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.EventLoopReported || s.ModelRuntimeReported || s.Channels != nil || !s.TakenAt.IsZero() || s.ConfigHotReloadStatus != "" {
		t.Errorf("ParseHealth({}) = %+v", s)
	}
	for _, bad := range []string{`[]`, `{"plugins":{"loaded":"all"}}`, `{"eventLoop":{"degraded":"no"}}`} {
		if _, err := ParseHealth(json.RawMessage(bad)); err == nil {
			t.Errorf("ParseHealth(%s) succeeded", bad)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every failure has its reason, and leaves no goroutine behind.
func TestProbeHealthFailures(t *testing.T) {
	answer := func(frame string) func(ctx context.Context, t *testing.T, c *websocket.Conn) {
		return func(ctx context.Context, t *testing.T, c *websocket.Conn) {
			if f, ok := recv(ctx, c); ok {
				send(ctx, c, strings.ReplaceAll(frame, "ID", f["id"].(string)))
				_, _ = recv(ctx, c)
			}
		}
	}
	afterHello := func(frame string) func(ctx context.Context, t *testing.T, c *websocket.Conn) {
		return func(ctx context.Context, t *testing.T, c *websocket.Conn) {
			if _, ok := recv(ctx, c); !ok {
				return
			}
			send(ctx, c, helloOKFrame)
			if f, ok := recv(ctx, c); ok {
				send(ctx, c, strings.ReplaceAll(frame, "ID", f["id"].(string)))
				_, _ = recv(ctx, c)
			}
		}
	}
	cases := []struct {
		name    string
		token   string // the probe's; the gateway wants "T"
		script  func(ctx context.Context, t *testing.T, c *websocket.Conn)
		handler http.HandlerFunc // instead of a WebSocket gateway
		addr    string           // instead of a server
		timeout time.Duration
		want    string
		msg     string
	}{
		{name: "bad token", token: "wrong", want: RPCReasonAuth, msg: "AUTH_TOKEN_MISMATCH"},
		{name: "no token, no auth configured", script: answer(`{"type":"res","id":"ID","ok":false,"error":{"code":"NOT_PAIRED","message":"device identity required","details":{"code":"DEVICE_IDENTITY_REQUIRED"}}}`), want: RPCReasonAuth},
		{name: "protocol mismatch", token: "T", script: answer(`{"type":"res","id":"ID","ok":false,"error":{"code":"INVALID_REQUEST","message":"protocol mismatch","details":{"code":"PROTOCOL_MISMATCH","expectedProtocol":5}}}`), want: RPCReasonHandshake, msg: "PROTOCOL_MISMATCH"},
		{name: "still starting", token: "T", script: answer(`{"type":"res","id":"ID","ok":false,"error":{"code":"UNAVAILABLE","message":"gateway starting","details":{"reason":"startup-sidecars"},"retryable":true}}`), want: RPCReasonHandshake},
		{name: "closed before hello-ok", token: "T", script: func(ctx context.Context, t *testing.T, c *websocket.Conn) {
			_, _ = recv(ctx, c)
			c.Close(websocket.StatusPolicyViolation, "invalid-handshake")
		}, want: RPCReasonHandshake},
		{name: "hello-ok of another protocol", token: "T", script: answer(strings.Replace(helloOKFrame, `"protocol":4`, `"protocol":5`, 1)), want: RPCReasonHandshake},
		{name: "never answers after upgrade", token: "T", script: func(ctx context.Context, t *testing.T, c *websocket.Conn) {
			for {
				if _, ok := recv(ctx, c); !ok {
					return
				}
			}
		}, timeout: 300 * time.Millisecond, want: RPCReasonTimeout},
		{name: "health never answers", token: "T", script: func(ctx context.Context, t *testing.T, c *websocket.Conn) {
			_, _ = recv(ctx, c)
			send(ctx, c, helloOKFrame)
			for {
				if _, ok := recv(ctx, c); !ok {
					return
				}
			}
		}, timeout: 300 * time.Millisecond, want: RPCReasonTimeout},
		{name: "garbage frame", token: "T", script: answer(`hello garbage`), want: RPCReasonProtocol},
		{name: "binary frame", token: "T", script: func(ctx context.Context, t *testing.T, c *websocket.Conn) {
			_, _ = recv(ctx, c)
			_ = c.Write(ctx, websocket.MessageBinary, []byte(`{}`))
			_, _ = recv(ctx, c)
		}, want: RPCReasonProtocol},
		{name: "answer to another id", token: "T", script: answer(`{"type":"res","id":"other","ok":true,"payload":{}}`), want: RPCReasonProtocol},
		{name: "no hello-ok", token: "T", script: answer(`{"type":"res","id":"ID","ok":true,"payload":{"type":"welcome"}}`), want: RPCReasonProtocol},
		{name: "rpc error", token: "T", script: afterHello(`{"type":"res","id":"ID","ok":false,"error":{"code":"UNAVAILABLE","message":"health unavailable"}}`), want: RPCReasonRPCError, msg: "health unavailable"},
		{name: "closed before the answer", token: "T", script: func(ctx context.Context, t *testing.T, c *websocket.Conn) {
			_, _ = recv(ctx, c)
			send(ctx, c, helloOKFrame)
			_, _ = recv(ctx, c)
			c.Close(websocket.StatusServiceRestart, "restarting")
		}, want: RPCReasonRPCError},
		{name: "health payload of the wrong shape", token: "T", script: afterHello(`{"type":"res","id":"ID","ok":true,"payload":{"plugins":{"loaded":7}}}`), want: RPCReasonProtocol},
		{name: "oversized frame", token: "T", script: afterHello(`{"type":"res","id":"ID","ok":true,"payload":{"pad":"` + strings.Repeat("x", RPCReadLimit) + `"}}`), want: RPCReasonProtocol, msg: "frame over"},
		{name: "not a WebSocket", token: "T", handler: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, want: RPCReasonProtocol, msg: "HTTP 404"},
		{name: "upgrade refused for credentials", token: "T", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		}, want: RPCReasonAuth},
		{name: "connection refused", token: "T", addr: closedPort(t), want: RPCReasonConnect},
		{name: "no address", token: "T", addr: "-", want: RPCReasonConnect},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			addr := c.addr
			if addr == "-" {
				addr = ""
			} else if addr == "" {
				var srv *httptest.Server
				if c.handler != nil {
					srv = httptest.NewServer(c.handler)
					defer srv.Close()
				} else {
					srv = (&fakeGateway{token: "T", script: c.script}).serve(t)
				}
				addr = addrOf(srv)
				defer srv.Close()
			}
			timeout := c.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			snap, _, err := ProbeHealth(ctx, addr, c.token)
			var re *RPCError
			if !errors.As(err, &re) {
				t.Fatalf("ProbeHealth = %+v, %v; want an *RPCError", snap, err)
			}
			if re.Reason != c.want || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("ProbeHealth error = %v (reason %s), want reason %s mentioning %q", err, re.Reason, c.want, c.msg)
			}
			if snap != nil {
				t.Errorf("snapshot %+v with an error", snap)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("the error repeats the token: %v", err)
			}
		})
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func FuzzParseHealth(f *testing.F) {
	for _, name := range []string{"health-2026.9.6.json", "health-channels.json"} {
		if data, err := os.ReadFile("../../testdata/rpc/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"channels":{"x":{"accounts":{"a":null,"b":{"connected":null,"lastInboundAt":"soon"}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseHealth(data)
		if err != nil {
			return
		}
		for i := 1; i < len(s.Channels); i++ {
			a, b := s.Channels[i-1], s.Channels[i]
			if a.Channel > b.Channel || (a.Channel == b.Channel && a.Account >= b.Account) {
				t.Fatalf("channels out of order: %+v before %+v", a, b)
			}
		}
	})
}

func TestRPCReasonsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range RPCReasons {
		if seen[r] || r == "" {
			t.Errorf("reason %q repeated or empty", r)
		}
		seen[r] = true
	}
	if len(seen) != 6 {
		t.Errorf("RPCReasons = %v, want six", RPCReasons)
	}
}
