package openclaw

import (
	"context"
	"encoding/json"
	"fmt"
)

// Active agent turns (docs/openclaw.md, "Active agent turns"). Observed on
// 2026.9.6: the health snapshot cannot tell them (its sessions block is the
// session store's stored sessions, from a snapshot up to a minute old,
// with no field for running work);
// sessions.list with activeOnly selects the sessions with a run running or
// queued now, from the live runtime owners, and its totalCount counts them
// before pagination. It needs operator.read, which the gateway grants a
// device-less token client only as the local CLI: AdminCall.

// activeSessionsParams asks for the active sessions only, one row: the
// count is totalCount, and a row is kilobytes.
type activeSessionsParams struct {
	ActiveOnly bool `json:"activeOnly"`
	Limit      int  `json:"limit"`
}

// ActiveTurns is how many sessions have an agent turn running or queued
// on the gateway at addr now. It speaks as the local CLI with the shared
// token (AdminCall), so it answers only on the gateway's host.
func ActiveTurns(ctx context.Context, addr, token string) (int, error) {
	var raw json.RawMessage
	if err := AdminCall(ctx, addr, token, "sessions.list", activeSessionsParams{ActiveOnly: true, Limit: 1}, &raw); err != nil {
		return 0, err
	}
	n, err := ParseActiveSessions(raw)
	if err != nil {
		return 0, &RPCError{RPCReasonProtocol, err}
	}
	return n, nil
}

// ParseActiveSessions reads an activeOnly sessions.list answer: its
// totalCount, or, from a gateway without one, its count of rows.
func ParseActiveSessions(payload json.RawMessage) (int, error) {
	var p struct {
		Count      *int `json:"count"`
		TotalCount *int `json:"totalCount"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return 0, fmt.Errorf("sessions.list answer: %w", err)
	}
	switch {
	case p.TotalCount != nil && *p.TotalCount >= 0:
		return *p.TotalCount, nil
	case p.Count != nil && *p.Count >= 0:
		return *p.Count, nil
	}
	return 0, fmt.Errorf("sessions.list answer has no count")
}
