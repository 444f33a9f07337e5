// Package openclaw is the one place that knows the real OpenClaw gateway: its
// lock files and when they are stale, its log file names and tslog lines, the
// /healthz and /readyz bodies, how to find its process and its version, and
// its WebSocket RPC (ProbeHealth: the handshake and the "health" call, the
// gateway's real request path). The exporter, the remediator and the
// simulator all go through it, and the conformance test in e2e/ holds it
// against the gateway from npm.
//
// The RPC client uses github.com/coder/websocket (formerly nhooyr.io/websocket,
// maintained by Coder): every read and write takes a context, so the probe's
// one deadline covers dialing, the upgrade, the handshake and the call
// without extra goroutines or timers of ours; it has a per-message read limit
// built in (ErrMessageTooBig) and no dependencies. gorilla/websocket would
// need deadlines set per operation and a goroutine to honour cancellation.
package openclaw
