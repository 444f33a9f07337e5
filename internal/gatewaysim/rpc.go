package gatewaysim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// The gateway's WebSocket RPC, the subset clawwatch uses, with the frames of
// the real gateway 2026.9.6 (docs/openclaw.md): any path of the gateway port
// upgrades; the gateway sends connect.challenge, the client a connect
// request, the gateway hello-ok; then requests and answers. The simulator
// has its own protocol types (it never imports the client it is held
// against) and answers "health"; other methods are refused for want of
// scope, as they are to a device-less token client.

const (
	rpcProtocol        = 4
	rpcMinProbeVersion = 3 // probe clients may speak N-1
	preauthReadLimit   = 64 << 10
	rpcReadLimit       = 1 << 20
	handshakeTimeout   = 15 * time.Second // the reference client's preauth budget
)

// simChannels are the channels the simulated gateway runs, one account
// ("default") each, sorted.
var simChannels = []string{"discord", "telegram"}

// The client ids the gateway accepts (GATEWAY_CLIENT_IDS, client-info.ts).
var rpcClientIDs = []string{"webchat-ui", "openclaw-control-ui", "openclaw-browser-copilot", "openclaw-tui", "webchat", "cli",
	"gateway-client", "openclaw-macos", "openclaw-linux", "openclaw-ios", "openclaw-watchos", "openclaw-android",
	"node-host", "openclaw-worker", "test", "fingerprint", "openclaw-probe"}

// wireFrame is a frame on the wire: request, response or event.
type wireFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	OK      *bool           `json:"ok,omitempty"`
	Payload any             `json:"payload,omitempty"`
	Error   *wireError      `json:"error,omitempty"`
	Event   string          `json:"event,omitempty"`
}

type wireError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// connectRequest is the part of the connect params the simulator checks.
type connectRequest struct {
	MinProtocol int `json:"minProtocol"`
	MaxProtocol int `json:"maxProtocol"`
	Client      struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		Mode    string `json:"mode"`
	} `json:"client"`
	Role   string   `json:"role"`
	Scopes []string `json:"scopes"`
	Auth   *struct {
		Token string `json:"token"`
	} `json:"auth"`
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// serveRPC runs one WebSocket connection until the client leaves or the
// simulator stops. Nothing is logged: the gateway's log stays quiet about
// probes, which is what makes rpc_hang a hidden hang.
func (s *Sim) serveRPC(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the HTTP request
	}
	defer c.CloseNow()
	ctx := s.rpcCtx
	c.SetReadLimit(preauthReadLimit)
	sendEvent(ctx, c, "connect.challenge", map[string]any{
		"nonce": newUUID(), "ts": time.Now().UnixMilli(), "capabilities": []string{"model-catalog-snapshot"},
	})

	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	req, ok := readFrame(hctx, c)
	cancel()
	if !ok {
		c.Close(websocket.StatusPolicyViolation, "invalid-handshake")
		return
	}
	if req.Type != "req" || req.Method != "connect" {
		refuse(ctx, c, req.ID, websocket.StatusPolicyViolation, &wireError{Code: "INVALID_REQUEST", Message: "invalid handshake: first request must be connect"})
		return
	}
	if s.rpcHung(RPCHangAtConnect) {
		drain(ctx, c)
		return
	}
	if !s.rpcWait(ctx) {
		return
	}
	scopes, status, werr := s.checkConnect(req.Params, r)
	if werr != nil {
		refuse(ctx, c, req.ID, status, werr)
		return
	}
	answer(ctx, c, req.ID, s.helloOK(r, scopes))
	c.SetReadLimit(rpcReadLimit)

	for {
		req, ok := readFrame(ctx, c)
		if !ok || req.Type != "req" {
			c.Close(websocket.StatusPolicyViolation, "invalid-frame")
			return
		}
		if req.Method == "health" && s.rpcHung(RPCHangAtHealth) {
			continue // never answered
		}
		if !s.rpcWait(ctx) {
			return
		}
		switch req.Method {
		case "health":
			answer(ctx, c, req.ID, s.healthPayload(time.Now(), true))
		case "status", "diagnostics.stability", "system-presence", "last-heartbeat", "channels.status":
			refuseMethod(ctx, c, req.ID, "operator.read")
		case "sessions.list":
			if len(scopes) == 0 {
				refuseMethod(ctx, c, req.ID, "operator.read")
				continue
			}
			answer(ctx, c, req.ID, s.sessionsList(time.Now(), req.Params))
		case "channels.stop", "channels.start":
			if !slices.Contains(scopes, "operator.admin") {
				refuseMethod(ctx, c, req.ID, "operator.admin")
				continue
			}
			res, werr := s.channelControl(req.Method, req.Params)
			if werr != nil {
				ok := false
				send(ctx, c, wireFrame{Type: "res", ID: req.ID, OK: &ok, Error: werr})
				continue
			}
			answer(ctx, c, req.ID, res)
		default:
			refuseMethod(ctx, c, req.ID, "operator.admin")
		}
	}
}

// checkConnect answers a connect request as the gateway does: protocol
// first, then the client, then the credentials. A device-less client needs
// the shared token; without a configured token (auth mode none) the gateway
// wants a device identity, which no monitoring client has.
//
// It returns the scopes granted: none, but to the CLI (client id and mode
// "cli") connecting over loopback with the token, which keeps the scopes
// it asked for, operator.admin among them (shouldPreserveLocalCliSharedAuthScopes
// in the gateway).
func (s *Sim) checkConnect(params json.RawMessage, r *http.Request) ([]string, websocket.StatusCode, *wireError) {
	status, werr, p := s.checkConnectRequest(params)
	if werr != nil {
		return nil, status, werr
	}
	scopes := []string{}
	if p.Client.ID == "cli" && p.Client.Mode == "cli" && loopbackPeer(r) && r.Header.Get("Origin") == "" {
		scopes = slices.Clone(p.Scopes)
	}
	return scopes, 0, nil
}

func loopbackPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

func (s *Sim) checkConnectRequest(params json.RawMessage) (websocket.StatusCode, *wireError, connectRequest) {
	var p connectRequest
	if err := json.Unmarshal(params, &p); err != nil {
		return websocket.StatusPolicyViolation, &wireError{Code: "INVALID_REQUEST", Message: "invalid connect params: " + err.Error()}, p
	}
	current := p.MinProtocol <= rpcProtocol && p.MaxProtocol >= rpcProtocol
	probe := p.Client.Mode == "probe" && p.MinProtocol <= rpcProtocol && p.MaxProtocol >= rpcMinProbeVersion
	if !current && !probe {
		return websocket.StatusProtocolError, &wireError{Code: "INVALID_REQUEST", Message: "protocol mismatch", Details: map[string]any{
			"code": "PROTOCOL_MISMATCH", "clientMinProtocol": p.MinProtocol, "clientMaxProtocol": p.MaxProtocol,
			"expectedProtocol": rpcProtocol, "minimumProbeProtocol": rpcMinProbeVersion,
		}}, p
	}
	if !slices.Contains(rpcClientIDs, p.Client.ID) {
		return websocket.StatusPolicyViolation, &wireError{Code: "INVALID_REQUEST", Message: "invalid connect params: at /client/id: must be equal to one of the allowed values"}, p
	}
	if p.Role != "" && p.Role != "operator" {
		return websocket.StatusPolicyViolation, &wireError{Code: "INVALID_REQUEST", Message: "unauthorized role: " + p.Role}, p
	}
	token := ""
	if p.Auth != nil {
		token = p.Auth.Token
	}
	switch {
	case s.cfg.Token == "" || token == "":
		return websocket.StatusPolicyViolation, &wireError{Code: "NOT_PAIRED", Message: "device identity required", Details: map[string]any{"code": "DEVICE_IDENTITY_REQUIRED"}}, p
	case token != s.cfg.Token:
		return websocket.StatusPolicyViolation, &wireError{Code: "INVALID_REQUEST", Message: "unauthorized: gateway token mismatch (provide gateway auth token)", Details: map[string]any{
			"code": "AUTH_TOKEN_MISMATCH", "authReason": "token_mismatch", "canRetryWithDeviceToken": false, "recommendedNextStep": "update_auth_credentials",
		}}, p
	}
	return 0, nil, p
}

// helloOK has the keys and value types of the real gateway's hello-ok.
// A token holder gets no scope (it connected without a device identity) but
// the local CLI, which gets what it asked for.
func (s *Sim) helloOK(r *http.Request, scopes []string) map[string]any {
	now := time.Now()
	health := s.healthPayload(now, false)
	delete(health, "modelRuntime") // the hello snapshot's health has none
	return map[string]any{
		"type":     "hello-ok",
		"protocol": rpcProtocol,
		"server": map[string]any{
			"version": s.cfg.Version, "buildId": s.buildID, "bootId": s.bootID,
			"controlUiBuildSource": "bundled", "connId": newUUID(),
		},
		"features": map[string]any{
			"methods":      []string{"health", "diagnostics.stability", "status", "system-presence", "last-heartbeat", "channels.status", "channels.start", "channels.stop", "sessions.list"},
			"events":       []string{"connect.challenge", "presence", "tick", "shutdown", "health", "heartbeat"},
			"capabilities": []string{"model-catalog-snapshot"},
		},
		"snapshot": map[string]any{
			"suspension":        map[string]any{"phase": "accepting"},
			"presence":          []any{},
			"health":            health,
			"stateVersion":      map[string]any{"presence": 1, "health": 1},
			"uptimeMs":          now.Sub(s.started).Milliseconds(),
			"appliedConfigHash": "hmac-sha256:v1:" + s.bootID,
			"sessionDefaults": map[string]any{
				"defaultAgentId": "main", "modelConfigured": false, "ownership": "sole", "selectionRequired": false,
				"mainKey": "main", "mainSessionKey": "agent:main:main", "scope": "per-sender",
			},
		},
		"pluginSurfaceUrls": map[string]any{"canvas": "http://" + r.Host + "/__openclaw__/cap/" + randomToken(18)},
		"auth":              map[string]any{"method": "token", "role": "operator", "scopes": scopes, "recoveryScope": randomToken(32)},
		"policy": map[string]any{
			"maxPayload": 26214400, "maxBufferedBytes": 52428800, "tickIntervalMs": 30000,
			"attachments":                         map[string]any{"maxBytes": 19464192, "maxImageBytes": 6291456},
			"allowedSessionVisibilities":          []string{"shared", "read-only", "suggest", "draft"},
			"hasMultipleSessionSharingIdentities": false,
		},
	}
}

// simPlugins are the plugins the real 2026.9.6 loads unconfigured, plus the
// two channel plugins the simulator runs.
var simPlugins = []string{"anthropic", "browser", "canvas", "cua-computer", "device-pair", "discord", "file-transfer",
	"geolocation", "github", "linux-node", "memory-core", "ollama", "openai", "talk-voice", "telegram", "xai"}

// healthPayload is the health RPC's answer: the keys and value types of the
// real gateway's, with channel entries of the shape its collector writes
// (health/collector.ts: the preferred account's snapshot spread at the top,
// every account under accounts). rpc is false for the copy inside hello-ok.
func (s *Sim) healthPayload(now time.Time, rpc bool) map[string]any {
	loaded, errs := slices.Clone(simPlugins), []any{}
	if f, ok := s.fault(FaultPluginError); ok {
		loaded = slices.DeleteFunc(loaded, func(p string) bool { return p == f.Plugin })
		errs = append(errs, map[string]any{
			"id": f.Plugin, "origin": "bundled", "activated": true, "failurePhase": "load",
			"error": "plugin " + f.Plugin + " failed to load: simulated fault",
		})
	}
	pending, degraded := []string{}, false
	if f, ok := s.fault(FaultModelRuntimeDegraded); ok {
		pending, degraded = f.PendingAgents, true
	}
	channels, labels := map[string]any{}, map[string]any{}
	for _, ch := range simChannels {
		acc := s.channelAccount(ch, now)
		entry := map[string]any{"accounts": map[string]any{"default": acc}}
		for k, v := range acc {
			entry[k] = v
		}
		channels[ch] = entry
		labels[ch] = strings.ToUpper(ch[:1]) + ch[1:]
	}
	sessionsPath := filepath.Join(s.cfg.StateDir, "agents", "main", "agent", "openclaw-agent.sqlite")
	sessions := map[string]any{"path": sessionsPath, "count": 2, "recent": []any{
		map[string]any{"key": "agent:main:telegram:direct:1001", "updatedAt": s.started.UnixMilli(), "age": now.Sub(s.started).Milliseconds()},
		map[string]any{"key": "agent:main:discord:channel:2002", "updatedAt": s.started.UnixMilli(), "age": now.Sub(s.started).Milliseconds()},
	}}
	p := map[string]any{
		"ok": true, "ts": now.UnixMilli(), "durationMs": 3,
		"plugins":          map[string]any{"loaded": loaded, "errors": errs, "unavailable": []any{}},
		"configReload":     map[string]any{"hotReloadStatus": "active"},
		"channels":         channels,
		"channelOrder":     simChannels,
		"channelLabels":    labels,
		"heartbeatSeconds": 1800,
		"defaultAgentId":   "main",
		"agents": []any{map[string]any{
			"agentId": "main", "isDefault": true,
			"heartbeat": map[string]any{
				"enabled": true, "every": "30m", "everyMs": 1800000, "target": "owner", "ackMaxChars": 300,
				"prompt": "If nothing needs attention, reply NO_REPLY.",
			},
			"sessions": sessions,
		}},
		"sessions":     sessions,
		"modelRuntime": map[string]any{"degraded": degraded, "pendingAgents": pending},
		"eventLoop":    s.eventLoopBlock(now),
	}
	if !rpc {
		delete(p, "modelRuntime")
	}
	return p
}

// sessionsList answers sessions.list in the shape of the real gateway's
// (SessionsListResult, the keys clawwatch reads and their neighbours): the
// agent_turn fault is one session running; without activeOnly the two
// sessions of the health snapshot are listed too.
func (s *Sim) sessionsList(now time.Time, raw json.RawMessage) map[string]any {
	var params struct {
		ActiveOnly bool `json:"activeOnly"`
		Limit      *int `json:"limit"`
	}
	_ = json.Unmarshal(raw, &params)
	limit := 100
	if params.Limit != nil && *params.Limit > 0 {
		limit = *params.Limit
	}
	var rows []any
	if _, ok := s.fault(FaultAgentTurn); ok {
		rows = append(rows, map[string]any{
			"key": "agent:main:openai:sim-turn", "kind": "direct", "agentId": "main",
			"sessionId": "sim-turn", "updatedAt": now.UnixMilli(), "status": "running", "startedAt": now.UnixMilli(),
		})
	}
	if !params.ActiveOnly {
		for _, key := range []string{"agent:main:telegram:direct:1001", "agent:main:discord:channel:2002"} {
			rows = append(rows, map[string]any{"key": key, "kind": "direct", "agentId": "main", "updatedAt": s.started.UnixMilli(), "status": "done"})
		}
	}
	total := len(rows)
	page := rows[:min(limit, total)]
	if page == nil {
		page = []any{}
	}
	return map[string]any{
		"ts": now.UnixMilli(), "path": filepath.Join(s.cfg.StateDir, "agents", "main", "agent", "openclaw-agent.sqlite"),
		"count": len(page), "totalCount": total, "limitApplied": limit, "nextOffset": nil, "hasMore": len(page) < total,
		"owners": []any{}, "sessions": page,
	}
}

// channelAccount is one account's snapshot (ChannelAccountSnapshot): a
// message comes in every 30 s while it is up; channel_down disconnects it
// and its reconnect attempts climb to the gateway's ten.
func (s *Sim) channelAccount(channel string, now time.Time) map[string]any {
	lastInbound := s.started.Add(now.Sub(s.started).Truncate(30 * time.Second))
	acc := map[string]any{
		"accountId": "default", "enabled": true, "configured": true, "running": true, "connected": true,
		"restartPending": false, "reconnectAttempts": 0, "lastConnectedAt": s.started.UnixMilli(),
		"lastInboundAt": lastInbound.UnixMilli(), "lastError": nil, "healthState": "healthy",
	}
	s.mu.Lock()
	stopped := s.stopped[channel]
	_, safeMode := s.faults[FaultSafeMode]
	held := safeMode && !s.manual[channel]
	s.mu.Unlock()
	switch {
	case held:
		// As 2026.9.6 shows a held account: stopped, never connected
		// (no connected or reconnectAttempts key at all), the breaker's
		// error.
		acc["running"], acc["healthState"], acc["lifecycle"] = false, "not-running", "stopped"
		acc["lastError"] = safeModeError
		delete(acc, "connected")
		delete(acc, "reconnectAttempts")
		delete(acc, "lastConnectedAt")
		return acc
	case stopped:
		acc["running"], acc["connected"], acc["healthState"] = false, false, "not-running"
		return acc
	}
	if since, ok := s.channelDownSince(channel); ok {
		acc["connected"] = false
		acc["healthState"] = "disconnected"
		acc["lastError"] = "simulated fault: connection reset by peer"
		acc["reconnectAttempts"] = min(10, 1+int(now.Sub(since)/(10*time.Second)))
		if since.Before(lastInbound) {
			acc["lastInboundAt"] = s.started.Add(since.Sub(s.started).Truncate(30 * time.Second)).UnixMilli()
		}
	}
	return acc
}

// safeModeError is the lastError the real gateway's crash-loop breaker
// gives every account it holds (run-*.mjs, 2026.9.6).
const safeModeError = "gateway restart-loop breaker tripped: 3 unclean boot(s) within 300000ms; suppressing channel/provider account auto-start. " +
	"Inspect the stability bundle and fix the startup crash before restarting the service. " +
	`Start a channel manually with: openclaw gateway call channels.start --params '{"channel":"<id>"}'`

// channelControl answers channels.stop and channels.start as the real
// gateway does: an unknown channel is refused; an account it does not run
// is answered as if stopped or handed off (the gateway does the same, which
// is why clawwatch checks the health snapshot first). A stop and start of a
// channel that is down reconnects it unless the fault is sticky; a manual
// start overrides safe mode for its channel.
func (s *Sim) channelControl(method string, raw json.RawMessage) (map[string]any, *wireError) {
	var p struct {
		Channel   string `json:"channel"`
		AccountID string `json:"accountId"`
	}
	if json.Unmarshal(raw, &p) != nil || !slices.Contains(simChannels, p.Channel) {
		return nil, &wireError{Code: "INVALID_REQUEST", Message: "invalid " + method + " channel"}
	}
	if p.AccountID == "" {
		p.AccountID = "default"
	}
	res := map[string]any{"channel": p.Channel, "accountId": p.AccountID}
	known := p.AccountID == "default"
	if method == "channels.stop" {
		if known {
			s.mu.Lock()
			s.stopped[p.Channel] = true
			s.mu.Unlock()
		}
		res["stopped"] = true
		return res, nil
	}
	res["started"] = true
	res["outcome"] = map[string]any{"status": "handed-off"}
	if !known {
		return res, nil
	}
	s.mu.Lock()
	_, safeMode := s.faults[FaultSafeMode]
	held := safeMode && !s.manual[p.Channel]
	wasStopped := s.stopped[p.Channel]
	delete(s.stopped, p.Channel)
	if safeMode {
		s.manual[p.Channel] = true
	}
	af, down := s.faults[FaultChannelDown]
	reconnect := wasStopped && down && af.Channel == p.Channel && !af.Sticky
	s.mu.Unlock()
	if !wasStopped && !held {
		res["outcome"] = map[string]any{"status": "retry", "reason": "task-owned"}
	}
	if reconnect {
		s.clearFault(FaultChannelDown)
	}
	return res, nil
}

func (s *Sim) channelDownSince(channel string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	af, ok := s.faults[FaultChannelDown]
	if !ok || af.Channel != channel {
		return time.Time{}, false
	}
	return af.since, true
}

func (s *Sim) rpcHung(at string) bool {
	f, ok := s.fault(FaultRPCHang)
	return ok && f.At == at
}

// rpcWait holds an answer while the event loop is frozen and for the slow
// fault's latency, as for HTTP; false when the simulator stops meanwhile.
func (s *Sim) rpcWait(ctx context.Context) bool {
	if s.loop.wait(ctx) != nil {
		return false
	}
	if d := s.latency(); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// drain reads and ignores everything until the client leaves: a request
// that is never answered.
func drain(ctx context.Context, c *websocket.Conn) {
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
	}
}

func readFrame(ctx context.Context, c *websocket.Conn) (wireFrame, bool) {
	typ, data, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageText {
		return wireFrame{}, false
	}
	var f wireFrame
	if json.Unmarshal(data, &f) != nil {
		return wireFrame{}, false
	}
	return f, true
}

func sendEvent(ctx context.Context, c *websocket.Conn, event string, payload any) {
	send(ctx, c, wireFrame{Type: "event", Event: event, Payload: payload})
}

func answer(ctx context.Context, c *websocket.Conn, id string, payload any) {
	ok := true
	send(ctx, c, wireFrame{Type: "res", ID: id, OK: &ok, Payload: payload})
}

// refuse answers a request with an error and closes, as the gateway does
// with a refused handshake.
func refuse(ctx context.Context, c *websocket.Conn, id string, status websocket.StatusCode, e *wireError) {
	ok := false
	send(ctx, c, wireFrame{Type: "res", ID: id, OK: &ok, Error: e})
	c.Close(status, e.Message)
}

func refuseMethod(ctx context.Context, c *websocket.Conn, id, scope string) {
	ok := false
	send(ctx, c, wireFrame{Type: "res", ID: id, OK: &ok, Error: &wireError{
		Code: "FORBIDDEN", Message: "missing scope: " + scope,
		Details: map[string]any{"code": "MISSING_SCOPE", "missingScope": scope, "requiredScopes": []string{scope}},
	}})
}

func send(ctx context.Context, c *websocket.Conn, f wireFrame) {
	data, err := json.Marshal(f)
	if err != nil {
		return
	}
	_ = c.Write(ctx, websocket.MessageText, data)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	return id[:8] + "-" + id[8:12] + "-4" + id[13:16] + "-" + id[16:20] + "-" + id[20:]
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
