package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RPCTimings are the phase durations of a successful probe.
type RPCTimings struct{ Connect, Handshake, Call time.Duration }

// Failure reasons of ProbeHealth, a fixed set used as a metric label.
const (
	RPCReasonConnect   = "connect"
	RPCReasonTimeout   = "timeout"
	RPCReasonHandshake = "handshake"
	RPCReasonAuth      = "auth"
	RPCReasonRPCError  = "rpc_error"
	RPCReasonProtocol  = "protocol"
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
type HealthSnapshot struct {
	// ProtocolVersion is hello-ok's protocol.
	ProtocolVersion int
	// ServerVersion is hello-ok's server.version ("" when absent).
	ServerVersion string
	// Channels flattened to channel × account, sorted by channel then account.
	Channels []ChannelHealth
	// Sessions is the gateway-wide session count (the payload's sessions.count).
	Sessions int

	PluginsLoaded, PluginsErrors, PluginsUnavailable int

	ModelRuntimeDegraded      bool
	ModelRuntimePendingAgents int

	EventLoopDegraded        bool
	EventLoopReasons         []string
	EventLoopDelayP99Seconds float64
	EventLoopDelayMaxSeconds float64
	EventLoopUtilization     float64
	EventLoopCPUCoreRatio    float64

	ConfigHotReloadStatus string

	// Raw is the health payload as received (bounded by the frame limit),
	// for evidence.
	Raw json.RawMessage
}

// ChannelHealth is one channel account of the health snapshot. Pointers are
// nil when the snapshot does not carry the field.
type ChannelHealth struct {
	Channel, Account               string
	Configured, Running, Connected *bool
	LastInboundAt                  *time.Time
	Restarts                       *int
}

// ProbeHealth dials ws://addr ("host:port" of the gateway), answers
// connect.challenge with a connect request (role operator, scope
// operator.read, shared token), checks hello-ok, calls "health" and closes.
// ctx carries the one deadline of the whole probe. Errors are *RPCError.
func ProbeHealth(ctx context.Context, addr, token string) (*HealthSnapshot, RPCTimings, error) {
	return nil, RPCTimings{}, &RPCError{Reason: RPCReasonProtocol, Err: errors.New("not implemented yet")}
}
