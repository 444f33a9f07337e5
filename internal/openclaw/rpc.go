package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/common/version"
)

// The gateway's WebSocket RPC, as observed on 2026.9.6 (docs/openclaw.md):
// the gateway speaks first with a connect.challenge event, the client answers
// with a connect request, the gateway with hello-ok; then requests and
// responses, with broadcast events in between.
const (
	// RPCProtocolVersion is the protocol clawwatch speaks (hello-ok.protocol).
	RPCProtocolVersion = 4
	// RPCScope is the only scope clawwatch asks for. A device-less client
	// authenticated by the shared token is granted no scope at all (hello-ok
	// reports scopes: []), and "health" is the one method the gateway serves
	// to any authenticated client regardless of scope; asking for more than
	// operator.read would only widen what a leaked probe could claim.
	RPCScope = "operator.read"
	// RPCReadLimit bounds every frame read from the gateway. hello-ok carries
	// the method list and a first snapshot (about 20 KiB on an idle gateway);
	// a health payload with many agents and channels stays far below this.
	RPCReadLimit = 4 << 20

	// The client identity the gateway reserves for health probes:
	// GATEWAY_CLIENT_IDS.PROBE and GATEWAY_CLIENT_MODES.PROBE.
	rpcClientID   = "openclaw-probe"
	rpcClientMode = "probe"

	rpcConnectID = "clawwatch-connect"
	rpcHealthID  = "clawwatch-health"
)

// RPCTimings are the phase durations of a successful probe: Connect is the
// TCP connection and WebSocket upgrade, Handshake from there to hello-ok,
// Call the health request and its answer.
type RPCTimings struct{ Connect, Handshake, Call time.Duration }

// Failure reasons of ProbeHealth, a fixed set used as a metric label.
const (
	// RPCReasonConnect: no connection (refused, unreachable, reset before
	// the WebSocket upgrade completed).
	RPCReasonConnect = "connect"
	// RPCReasonTimeout: the probe's deadline passed, in any phase.
	RPCReasonTimeout = "timeout"
	// RPCReasonHandshake: the gateway refused the connect request for a
	// reason other than credentials (protocol mismatch, still starting) or
	// closed the connection before hello-ok.
	RPCReasonHandshake = "handshake"
	// RPCReasonAuth: the gateway refused the credentials (wrong or missing
	// token, a device identity required because no token is configured).
	RPCReasonAuth = "auth"
	// RPCReasonRPCError: the health request failed after a good handshake:
	// an error answer, or the connection closed before the answer.
	RPCReasonRPCError = "rpc_error"
	// RPCReasonProtocol: the peer does not speak the protocol: not a
	// WebSocket, frames that are not JSON or not the expected shape, a frame
	// over RPCReadLimit.
	RPCReasonProtocol = "protocol"
)

// RPCReasons lists every reason an *RPCError can carry.
var RPCReasons = []string{RPCReasonConnect, RPCReasonTimeout, RPCReasonHandshake, RPCReasonAuth, RPCReasonRPCError, RPCReasonProtocol}

// RPCError is the error ProbeHealth returns: Reason is one of RPCReasons.
type RPCError struct {
	Reason string
	Err    error
}

func (e *RPCError) Error() string { return fmt.Sprintf("gateway rpc %s: %v", e.Reason, e.Err) }
func (e *RPCError) Unwrap() error { return e.Err }

// HealthSnapshot is what clawwatch reads from the gateway's "health" RPC.
// Fields the gateway left out are zero; the *Reported flags tell a block
// that was absent from one that was all zeros.
type HealthSnapshot struct {
	// ProtocolVersion is hello-ok's protocol.
	ProtocolVersion int
	// ServerVersion is hello-ok's server.version ("" when absent).
	ServerVersion string
	// TakenAt is when the gateway produced the snapshot (its ts): the
	// answer may be a cached snapshot up to a minute old.
	TakenAt time.Time
	// Channels flattened to channel × account, sorted by channel then account.
	Channels []ChannelHealth
	// Agents is the number of agents in the snapshot.
	Agents int
	// Sessions is the sum of agents[].sessions.count: each agent's count
	// holds only its own sessions, so the sum counts every session once.
	// Without an agents list it is the top-level sessions.count, which
	// covers only the default agent.
	Sessions int

	// Plugins loaded, failed to load (or whose service failed), and
	// configured but unavailable (plugins.loaded/errors/unavailable).
	PluginsLoaded, PluginsErrors, PluginsUnavailable int

	// ModelRuntimeReported is false when the snapshot has no modelRuntime.
	ModelRuntimeReported      bool
	ModelRuntimeDegraded      bool
	ModelRuntimePendingAgents int

	// EventLoopReported is false when the snapshot has no eventLoop: the
	// gateway's sampler has not completed a window yet.
	EventLoopReported        bool
	EventLoopDegraded        bool
	EventLoopReasons         []string
	EventLoopDelayP99Seconds float64
	EventLoopDelayMaxSeconds float64
	EventLoopUtilization     float64
	EventLoopCPUCoreRatio    float64

	// ConfigHotReloadStatus is configReload.hotReloadStatus: "active",
	// "disabled", or "" when absent.
	ConfigHotReloadStatus string

	// Raw is the health payload as received (bounded by RPCReadLimit),
	// for evidence.
	Raw json.RawMessage
}

// ChannelHealth is one channel account of the health snapshot. Pointers are
// nil when the snapshot does not carry the field (or carries null, or a
// value of another type: channel entries are plugin-defined and untyped in
// the protocol schema).
type ChannelHealth struct {
	Channel, Account               string
	Configured, Running, Connected *bool
	LastInboundAt                  *time.Time
	// Restarts is the account's reconnectAttempts.
	Restarts *int
	// LastError is the account's lastError ("" when null or absent).
	LastError string
	// SafeMode: the gateway's crash-loop breaker keeps this account from
	// starting (see SafeModeMarker).
	SafeMode bool
}

// SafeModeMarker is what the gateway's restart-recovery safe mode writes
// into the lastError of every channel account it keeps from starting
// (2026.9.6, run-*.mjs: "gateway restart-loop breaker tripped: N unclean
// boot(s) within 300000ms; suppressing channel/provider account
// auto-start. …"). The health RPC carries no other sign of it: the state
// lives in the gateway's SQLite boot history and its log.
const SafeModeMarker = "restart-loop breaker tripped"

// SafeModeAccounts counts the channel accounts the crash-loop breaker
// holds stopped; more than zero means the gateway is in safe mode.
func (s *HealthSnapshot) SafeModeAccounts() int {
	n := 0
	for _, ch := range s.Channels {
		if ch.SafeMode {
			n++
		}
	}
	return n
}

// Channel returns the snapshot's entry for channel and account.
func (s *HealthSnapshot) Channel(channel, account string) (ChannelHealth, bool) {
	i := slices.IndexFunc(s.Channels, func(c ChannelHealth) bool { return c.Channel == channel && c.Account == account })
	if i < 0 {
		return ChannelHealth{}, false
	}
	return s.Channels[i], true
}

// ProbeHealth dials ws://addr ("host:port" of the gateway), answers
// connect.challenge with a connect request (role operator, scope
// operator.read, shared token), checks hello-ok, calls "health" and closes.
// ctx carries the one deadline of the whole probe and must have one: the
// protocol has no timeout of its own. Errors are *RPCError. Nothing started
// here outlives the call.
func ProbeHealth(ctx context.Context, addr, token string) (*HealthSnapshot, RPCTimings, error) {
	var tm RPCTimings
	if addr == "" {
		return nil, tm, &RPCError{RPCReasonConnect, errors.New("no gateway address")}
	}
	start := time.Now()
	// A transport of its own: no proxy from the environment between a
	// monitor and a gateway on its host, and no pooled connection left
	// behind when the upgrade is refused.
	c, err := dialRPC(ctx, addr)
	if err != nil {
		return nil, tm, err
	}
	defer c.conn.CloseNow()
	tm.Connect = time.Since(start)

	start = time.Now()
	hello, err := c.handshake(ctx, token, probeClient)
	if err != nil {
		return nil, tm, err
	}
	tm.Handshake = time.Since(start)

	start = time.Now()
	payload, err := c.call(ctx, rpcHealthID, "health", struct{}{})
	if err != nil {
		return nil, tm, err
	}
	snap, err := ParseHealth(payload)
	if err != nil {
		return nil, tm, &RPCError{RPCReasonProtocol, err}
	}
	tm.Call = time.Since(start)
	snap.ProtocolVersion = hello.Protocol
	snap.ServerVersion = hello.Server.Version
	c.close(ctx)
	return snap, tm, nil
}

// dialRPC opens the WebSocket. A transport of its own: no proxy from the
// environment between clawwatch and a gateway on its host, and no pooled
// connection left behind when the upgrade is refused.
func dialRPC(ctx context.Context, addr string) (*rpcConn, error) {
	transport := &http.Transport{DialContext: (&net.Dialer{}).DialContext, DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	conn, resp, err := websocket.Dial(ctx, "ws://"+addr+"/", &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: transport},
	})
	if err != nil {
		return nil, dialError(ctx, resp, err)
	}
	conn.SetReadLimit(RPCReadLimit)
	return &rpcConn{conn: conn}, nil
}

func dialError(ctx context.Context, resp *http.Response, err error) error {
	if ctx.Err() != nil {
		return &RPCError{RPCReasonTimeout, fmt.Errorf("connect: %w", err)}
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		reason := RPCReasonProtocol
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			reason = RPCReasonAuth
		}
		return &RPCError{reason, fmt.Errorf("the WebSocket upgrade was answered with HTTP %d", resp.StatusCode)}
	}
	return &RPCError{RPCReasonConnect, err}
}

// rpcFrame is one frame of the protocol: a request, a response or an event.
type rpcFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  any             `json:"params,omitempty"`
	OK      *bool           `json:"ok,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *gatewayError   `json:"error,omitempty"`
	Event   string          `json:"event,omitempty"`
}

// gatewayError is a response's error: {code, message, details?}.
type gatewayError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"details"`
}

func (e *gatewayError) String() string {
	code := e.Code
	if e.Details.Code != "" {
		code += "/" + e.Details.Code
	}
	msg := e.Message
	if len(msg) > 300 { // messages are for people and can grow; logs need not
		msg = msg[:300] + "…"
	}
	return code + ": " + msg
}

// authFailure reports whether a refused connect is about credentials. The
// codes are the gateway's ConnectErrorDetailCodes (connect-error-details.ts).
func (e *gatewayError) authFailure() bool {
	d := e.Details.Code
	return e.Code == "NOT_PAIRED" ||
		strings.HasPrefix(d, "AUTH_") || strings.HasPrefix(d, "DEVICE_AUTH_") ||
		d == "DEVICE_IDENTITY_REQUIRED" || d == "PAIRING_REQUIRED" ||
		strings.HasPrefix(e.Message, "unauthorized")
}

// helloOK is the part of hello-ok that clawwatch reads.
type helloOK struct {
	Type     string `json:"type"`
	Protocol int    `json:"protocol"`
	Server   struct {
		Version string `json:"version"`
		BootID  string `json:"bootId"`
	} `json:"server"`
	Auth struct {
		Scopes []string `json:"scopes"`
	} `json:"auth"`
}

// rpcClient is who clawwatch says it is in a connect request, and the
// scopes it asks for.
type rpcClient struct {
	id, mode string
	scopes   []string
}

// probeClient is the exporter's and verification's identity: the probe's,
// asking for operator.read only.
var probeClient = rpcClient{id: rpcClientID, mode: rpcClientMode, scopes: []string{RPCScope}}

// connectParams is the connect request's params (protocol/handshake.md):
// no device identity, the shared token only.
type connectParams struct {
	MinProtocol int           `json:"minProtocol"`
	MaxProtocol int           `json:"maxProtocol"`
	Client      connectClient `json:"client"`
	Role        string        `json:"role"`
	Scopes      []string      `json:"scopes"`
	Auth        *connectAuth  `json:"auth,omitempty"`
}

type connectClient struct {
	ID       string `json:"id"`
	Version  string `json:"version"`
	Platform string `json:"platform"`
	Mode     string `json:"mode"`
}

type connectAuth struct {
	Token string `json:"token"`
}

type rpcConn struct {
	conn   *websocket.Conn
	phase  string // the reason for a broken connection in this phase
	method string // the method called, for errors
}

func (c *rpcConn) handshake(ctx context.Context, token string, who rpcClient) (*helloOK, error) {
	c.phase = RPCReasonHandshake
	f, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	if f.Type != "event" || f.Event != "connect.challenge" {
		return nil, &RPCError{RPCReasonProtocol, fmt.Errorf("first frame is %s %q, want the connect.challenge event", f.Type, f.Event+f.Method)}
	}
	clientVersion := version.Version
	if clientVersion == "" {
		clientVersion = "dev"
	}
	params := connectParams{
		MinProtocol: RPCProtocolVersion,
		MaxProtocol: RPCProtocolVersion,
		Client:      connectClient{ID: who.id, Version: clientVersion, Platform: runtime.GOOS, Mode: who.mode},
		Role:        "operator",
		Scopes:      who.scopes,
	}
	if token != "" {
		params.Auth = &connectAuth{Token: token}
	}
	if err := c.write(ctx, rpcFrame{Type: "req", ID: rpcConnectID, Method: "connect", Params: params}); err != nil {
		return nil, err
	}
	res, err := c.response(ctx, rpcConnectID)
	if err != nil {
		return nil, err
	}
	if !*res.OK {
		reason := RPCReasonHandshake
		if res.Error.authFailure() {
			reason = RPCReasonAuth
		}
		return nil, &RPCError{reason, fmt.Errorf("connect refused: %s", res.Error)}
	}
	var hello helloOK
	if err := json.Unmarshal(res.Payload, &hello); err != nil || hello.Type != "hello-ok" {
		return nil, &RPCError{RPCReasonProtocol, fmt.Errorf("connect answered without hello-ok: %.200s", res.Payload)}
	}
	if hello.Protocol != RPCProtocolVersion {
		return nil, &RPCError{RPCReasonHandshake, fmt.Errorf("hello-ok protocol %d, want %d", hello.Protocol, RPCProtocolVersion)}
	}
	return &hello, nil
}

// call sends a request and returns the payload of its successful answer.
func (c *rpcConn) call(ctx context.Context, id, method string, params any) (json.RawMessage, error) {
	c.phase, c.method = RPCReasonRPCError, method
	if err := c.write(ctx, rpcFrame{Type: "req", ID: id, Method: method, Params: params}); err != nil {
		return nil, err
	}
	res, err := c.response(ctx, id)
	if err != nil {
		return nil, err
	}
	if !*res.OK {
		return nil, &RPCError{RPCReasonRPCError, fmt.Errorf("%s: %s", method, res.Error)}
	}
	return res.Payload, nil
}

// response reads until the response to id, skipping the events the gateway
// broadcasts meanwhile (tick, health, presence); the deadline bounds it.
func (c *rpcConn) response(ctx context.Context, id string) (*rpcFrame, error) {
	for {
		f, err := c.read(ctx)
		if err != nil {
			return nil, err
		}
		switch {
		case f.Type == "event":
			continue
		case f.Type != "res" || f.ID != id || f.OK == nil:
			return nil, &RPCError{RPCReasonProtocol, fmt.Errorf("unexpected frame %s id %q while waiting for the answer to %q", f.Type, f.ID, id)}
		case !*f.OK && f.Error == nil:
			return nil, &RPCError{RPCReasonProtocol, fmt.Errorf("answer to %q has ok:false and no error", id)}
		}
		return f, nil
	}
}

func (c *rpcConn) read(ctx context.Context) (*rpcFrame, error) {
	typ, data, err := c.conn.Read(ctx)
	if err != nil {
		return nil, c.ioError(ctx, err)
	}
	if typ != websocket.MessageText {
		return nil, &RPCError{RPCReasonProtocol, errors.New("binary frame, want JSON text")}
	}
	var f rpcFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, &RPCError{RPCReasonProtocol, fmt.Errorf("frame is not a JSON protocol frame: %v", err)}
	}
	return &f, nil
}

func (c *rpcConn) write(ctx context.Context, f rpcFrame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return &RPCError{RPCReasonProtocol, err}
	}
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		return c.ioError(ctx, err)
	}
	return nil
}

func (c *rpcConn) ioError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return &RPCError{RPCReasonTimeout, fmt.Errorf("%s: %w", c.phaseName(), ctx.Err())}
	case errors.Is(err, websocket.ErrMessageTooBig):
		return &RPCError{RPCReasonProtocol, fmt.Errorf("frame over %d bytes", RPCReadLimit)}
	}
	if st := websocket.CloseStatus(err); st != -1 {
		return &RPCError{c.phase, fmt.Errorf("the gateway closed the connection during the %s: %w", c.phaseName(), err)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return &RPCError{c.phase, fmt.Errorf("connection lost during the %s: %w", c.phaseName(), err)}
	}
	return &RPCError{c.phase, fmt.Errorf("%s: %w", c.phaseName(), err)}
}

func (c *rpcConn) phaseName() string {
	if c.phase == RPCReasonHandshake {
		return "handshake"
	}
	return c.method + " call"
}

// close ends the connection politely (the gateway then logs a normal
// closure), but never past the probe's deadline.
func (c *rpcConn) close(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { _ = c.conn.CloseNow() })
	defer stop()
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
}

// healthPayload is the part of the health payload that clawwatch reads
// (HealthSnapshotSchema in the gateway's protocol package; the RPC adds
// modelRuntime). Unknown keys are ignored: the gateway adds blocks often.
type healthPayload struct {
	TS      *float64 `json:"ts"`
	Plugins *struct {
		Loaded      []string          `json:"loaded"`
		Errors      []json.RawMessage `json:"errors"`
		Unavailable []json.RawMessage `json:"unavailable"`
	} `json:"plugins"`
	ConfigReload *struct {
		HotReloadStatus string `json:"hotReloadStatus"`
	} `json:"configReload"`
	Channels map[string]json.RawMessage `json:"channels"`
	Agents   []struct {
		Sessions *struct {
			Count int `json:"count"`
		} `json:"sessions"`
	} `json:"agents"`
	Sessions *struct {
		Count int `json:"count"`
	} `json:"sessions"`
	ModelRuntime *struct {
		Degraded      bool     `json:"degraded"`
		PendingAgents []string `json:"pendingAgents"`
	} `json:"modelRuntime"`
	EventLoop *EventLoop `json:"eventLoop"`
}

// ParseHealth reads a health RPC payload. Channel entries are read
// leniently (a field of an unexpected type counts as absent); the rest must
// have the types of the protocol schema.
func ParseHealth(payload json.RawMessage) (*HealthSnapshot, error) {
	var p healthPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("health payload: %w", err)
	}
	s := &HealthSnapshot{Raw: payload, Agents: len(p.Agents)}
	if p.TS != nil {
		s.TakenAt = time.UnixMilli(int64(*p.TS))
	}
	if p.Plugins != nil {
		s.PluginsLoaded, s.PluginsErrors, s.PluginsUnavailable = len(p.Plugins.Loaded), len(p.Plugins.Errors), len(p.Plugins.Unavailable)
	}
	if p.ConfigReload != nil {
		s.ConfigHotReloadStatus = p.ConfigReload.HotReloadStatus
	}
	if len(p.Agents) > 0 {
		for _, a := range p.Agents {
			if a.Sessions != nil {
				s.Sessions += a.Sessions.Count
			}
		}
	} else if p.Sessions != nil {
		s.Sessions = p.Sessions.Count
	}
	if m := p.ModelRuntime; m != nil {
		s.ModelRuntimeReported, s.ModelRuntimeDegraded, s.ModelRuntimePendingAgents = true, m.Degraded, len(m.PendingAgents)
	}
	if el := p.EventLoop; el != nil {
		s.EventLoopReported = true
		s.EventLoopDegraded = el.Degraded
		s.EventLoopReasons = slices.Clone(el.Reasons)
		s.EventLoopDelayP99Seconds = el.DelayP99Ms / 1000
		s.EventLoopDelayMaxSeconds = el.DelayMaxMs / 1000
		s.EventLoopUtilization = el.Utilization
		s.EventLoopCPUCoreRatio = el.CPUCoreRatio
	}
	for _, id := range slices.Sorted(maps.Keys(p.Channels)) {
		s.Channels = append(s.Channels, flattenChannel(id, p.Channels[id])...)
	}
	return s, nil
}

// flattenChannel turns one entry of the health payload's channels into one
// ChannelHealth per account. The gateway's collector (health/collector.ts)
// writes {...preferred account's snapshot, accounts: {id: snapshot}}; an
// entry without accounts is read as the one account it describes.
func flattenChannel(channel string, raw json.RawMessage) []ChannelHealth {
	var entry map[string]json.RawMessage
	if json.Unmarshal(raw, &entry) != nil {
		return nil
	}
	var accounts map[string]json.RawMessage
	if json.Unmarshal(entry["accounts"], &accounts) != nil || len(accounts) == 0 {
		id := "default"
		_ = json.Unmarshal(entry["accountId"], &id)
		accounts = map[string]json.RawMessage{id: raw}
	}
	var out []ChannelHealth
	for _, id := range slices.Sorted(maps.Keys(accounts)) {
		var acc map[string]json.RawMessage
		if json.Unmarshal(accounts[id], &acc) != nil {
			continue
		}
		ch := ChannelHealth{
			Channel:    channel,
			Account:    id,
			Configured: lenient[bool](acc["configured"]),
			Running:    lenient[bool](acc["running"]),
			Connected:  lenient[bool](acc["connected"]),
			Restarts:   lenient[int](acc["reconnectAttempts"]),
		}
		if e := lenient[string](acc["lastError"]); e != nil {
			ch.LastError = *e
			// Running means a manual channels.start overrode the breaker
			// for this account; the stale error stays until it reconnects.
			ch.SafeMode = strings.Contains(*e, SafeModeMarker) && (ch.Running == nil || !*ch.Running)
		}
		if ms := lenient[float64](acc["lastInboundAt"]); ms != nil {
			t := time.UnixMilli(int64(*ms))
			ch.LastInboundAt = &t
		}
		out = append(out, ch)
	}
	return out
}

// lenient decodes raw into a T, or nil when raw is absent, null or not a T.
func lenient[T any](raw json.RawMessage) *T {
	if len(raw) == 0 {
		return nil
	}
	v := new(T)
	if json.Unmarshal(raw, &v) != nil || v == nil {
		return nil
	}
	return v
}
