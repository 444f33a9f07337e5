package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// adminGateway answers connect as 2026.9.6 does for a device-less token
// client: the CLI's identity keeps the scopes it asked for, any other gets
// none; then it answers one request with reply(method, params).
func adminGateway(t *testing.T, grantCLI bool, reply func(method string, params map[string]any) string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		send(ctx, c, `{"type":"event","event":"connect.challenge","payload":{"nonce":"n-1","ts":1796089906667}}`)
		f, ok := recv(ctx, c)
		if !ok {
			return
		}
		p, _ := f["params"].(map[string]any)
		client, _ := p["client"].(map[string]any)
		scopes := "[]"
		if grantCLI && client["id"] == "cli" && client["mode"] == "cli" {
			b, _ := json.Marshal(p["scopes"])
			scopes = string(b)
		}
		send(ctx, c, `{"type":"res","id":"`+f["id"].(string)+`","ok":true,"payload":{"type":"hello-ok","protocol":4,"server":{"version":"2026.9.6","bootId":"b-1"},"auth":{"role":"operator","scopes":`+scopes+`}}}`)
		f, ok = recv(ctx, c)
		if !ok {
			return
		}
		params, _ := f["params"].(map[string]any)
		send(ctx, c, `{"type":"event","event":"tick","payload":{"ts":1}}`)
		send(ctx, c, `{"type":"res","id":"`+f["id"].(string)+`",`+reply(f["method"].(string), params)+`}`)
		_, _, _ = c.Read(ctx)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestChannelStopStart(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var calls []string
	srv := adminGateway(t, true, func(method string, p map[string]any) string {
		calls = append(calls, method+" "+p["channel"].(string)+"/"+p["accountId"].(string))
		if method == "channels.stop" {
			return `"ok":true,"payload":{"channel":"telegram","accountId":"work","stopped":true}`
		}
		return `"ok":true,"payload":{"channel":"telegram","accountId":"work","started":true,"outcome":{"status":"retry","reason":"task-owned"}}`
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop, err := StopChannel(ctx, addrOf(srv), "T", "telegram", "work")
	if err != nil || !stop.Stopped || stop.AccountID != "work" {
		t.Fatalf("StopChannel = %+v, %v", stop, err)
	}
	start, err := StartChannel(ctx, addrOf(srv), "T", "telegram", "work")
	if err != nil || !start.Started || start.String() != "started=true outcome=retry (task-owned)" {
		t.Fatalf("StartChannel = %+v, %v", start, err)
	}
	if len(calls) != 2 || calls[0] != "channels.stop telegram/work" || calls[1] != "channels.start telegram/work" {
		t.Errorf("calls = %q", calls)
	}
	srv.Close()
}

// A gateway that grants no admin scope (a remote client, or a release that
// stopped preserving the CLI's scopes) is reported as such before any
// request; a FORBIDDEN answer is an rpc_error with the gateway's words.
func TestChannelAdminRefusals(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	called := false
	srv := adminGateway(t, false, func(string, map[string]any) string { called = true; return `"ok":true,"payload":{}` })
	_, err := StopChannel(ctx, addrOf(srv), "T", "telegram", "")
	var re *RPCError
	if !errors.Is(err, ErrNoAdminScope) || !errors.As(err, &re) || re.Reason != RPCReasonAuth || called {
		t.Errorf("without the scope: %v (called %t), want ErrNoAdminScope before any request", err, called)
	}
	srv.Close()

	srv = adminGateway(t, true, func(string, map[string]any) string {
		return `"ok":false,"error":{"code":"INVALID_REQUEST","message":"invalid channels.stop channel"}`
	})
	_, err = StopChannel(ctx, addrOf(srv), "T", "irc", "")
	if !errors.As(err, &re) || re.Reason != RPCReasonRPCError || re.Error() != "gateway rpc rpc_error: channels.stop: INVALID_REQUEST: invalid channels.stop channel" {
		t.Errorf("refused: %v", err)
	}
	srv.Close()
}

// Safe mode shows in the health RPC only as the breaker's lastError on the
// accounts it holds stopped; an account an operator started again is no
// longer held, even while its old error stays.
func TestParseHealthSafeMode(t *testing.T) {
	const breaker = "gateway restart-loop breaker tripped: 3 unclean boot(s) within 300000ms; suppressing channel/provider account auto-start."
	payload, _ := json.Marshal(map[string]any{"channels": map[string]any{
		"telegram": map[string]any{"accounts": map[string]any{
			"default": map[string]any{"configured": true, "running": false, "connected": false, "lastError": breaker},
			"work":    map[string]any{"configured": true, "running": true, "connected": false, "lastError": breaker},
			"other":   map[string]any{"configured": true, "running": false, "lastError": "ETIMEDOUT"},
		}},
	}})
	s, err := ParseHealth(payload)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.SafeModeAccounts(); n != 1 {
		t.Errorf("SafeModeAccounts = %d, want 1: %+v", n, s.Channels)
	}
	if ch, ok := s.Channel("telegram", "default"); !ok || !ch.SafeMode || ch.LastError != breaker {
		t.Errorf("telegram/default = %+v %t", ch, ok)
	}
	if _, ok := s.Channel("telegram", "nope"); ok {
		t.Error("an account the snapshot does not hold was found")
	}
}
