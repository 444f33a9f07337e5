package openclaw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Per-account channel recovery through the gateway's RPC (docs/openclaw.md,
// "Channels"): channels.stop and channels.start stop or start one channel
// account's runtime and keep its credentials; both need operator.admin.
//
// Observed on 2026.9.6: a client without a device identity that presents
// the shared token keeps the scopes it asks for only when it is the CLI
// (client id "cli", mode "cli") connecting directly over loopback
// (shouldPreserveLocalCliSharedAuthScopes in the gateway); every other
// device-less token client, the probe's identity included, and every
// non-local one is granted no scope, and channels.* answers FORBIDDEN
// "missing scope: operator.admin". So the admin calls speak as the CLI
// does, from the gateway's host, with the token.
const (
	// RPCAdminScope is the scope channels.stop and channels.start need.
	RPCAdminScope = "operator.admin"

	rpcCLIClientID = "cli"
	rpcCLIMode     = "cli"
	rpcAdminID     = "clawwatch-admin"
)

var adminClient = rpcClient{id: rpcCLIClientID, mode: rpcCLIMode, scopes: []string{RPCAdminScope}}

// ErrNoAdminScope: the gateway accepted the token but granted no
// operator.admin (a connection from another host, or a gateway that no
// longer preserves the CLI's scopes).
var ErrNoAdminScope = errors.New("the gateway granted no operator.admin scope (the admin RPCs need the shared token over loopback, from the gateway's host)")

// ChannelStopResult is channels.stop's answer. Stopped is true when the
// account's runtime no longer reports running, which the gateway also says
// of an account it does not know: check the health snapshot first.
type ChannelStopResult struct {
	Channel   string `json:"channel"`
	AccountID string `json:"accountId"`
	Stopped   bool   `json:"stopped"`
}

// ChannelStartResult is channels.start's answer. Started is true when the
// runtime reports running, not when the provider is connected. Outcome's
// status is handed-off, retry (reason task-owned, start-in-flight,
// stop-in-flight) or skipped (disabled, unconfigured, unlinked, …).
type ChannelStartResult struct {
	Channel   string `json:"channel"`
	AccountID string `json:"accountId"`
	Started   bool   `json:"started"`
	Outcome   struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"outcome"`
}

func (r *ChannelStartResult) String() string {
	s := fmt.Sprintf("started=%t outcome=%s", r.Started, r.Outcome.Status)
	if r.Outcome.Reason != "" {
		s += " (" + r.Outcome.Reason + ")"
	}
	return s
}

type channelParams struct {
	Channel   string `json:"channel"`
	AccountID string `json:"accountId,omitempty"`
}

// StopChannel calls channels.stop for one account (account "" is the
// channel's default account). ctx must carry a deadline.
func StopChannel(ctx context.Context, addr, token, channel, account string) (*ChannelStopResult, error) {
	var out ChannelStopResult
	if err := AdminCall(ctx, addr, token, "channels.stop", channelParams{channel, account}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StartChannel calls channels.start for one account: a manual start, which
// also overrides the crash-loop breaker's suppression of automatic starts.
func StartChannel(ctx context.Context, addr, token, channel, account string) (*ChannelStartResult, error) {
	var out ChannelStartResult
	if err := AdminCall(ctx, addr, token, "channels.start", channelParams{channel, account}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AdminCall connects as the local CLI with the shared token, asks for
// operator.admin, calls method with params and decodes the answer's payload
// into out. Errors are *RPCError, or wrap ErrNoAdminScope.
func AdminCall(ctx context.Context, addr, token, method string, params, out any) error {
	if addr == "" {
		return &RPCError{RPCReasonConnect, errors.New("no gateway address")}
	}
	c, err := dialRPC(ctx, addr)
	if err != nil {
		return err
	}
	defer c.conn.CloseNow()
	hello, err := c.handshake(ctx, token, adminClient)
	if err != nil {
		return err
	}
	if !slices.Contains(hello.Auth.Scopes, RPCAdminScope) {
		return &RPCError{RPCReasonAuth, fmt.Errorf("%w: granted [%s]", ErrNoAdminScope, strings.Join(hello.Auth.Scopes, " "))}
	}
	payload, err := c.call(ctx, rpcAdminID, method, params)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(payload, out); err != nil {
			return &RPCError{RPCReasonProtocol, fmt.Errorf("%s answer: %w", method, err)}
		}
	}
	c.close(ctx)
	return nil
}
