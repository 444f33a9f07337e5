package gatewaysim

import (
	"strings"
	"testing"
	"time"
)

func TestParseFault(t *testing.T) {
	cases := []struct {
		body    string
		wantErr string // substring; empty means valid
		check   func(Fault) bool
	}{
		{`{"kind":"hang"}`, "", func(f Fault) bool { return f.Kind == FaultHang }},
		{`{"kind":"slow","latency":"300ms"}`, "", func(f Fault) bool { return f.Latency == 300*time.Millisecond }},
		{`{"kind":"event_loop_stall","every":"60s","duration":"20s"}`, "", func(f Fault) bool { return f.Every == time.Minute && f.Duration == 20*time.Second }},
		{`{"kind":"fd_leak","per_second":50}`, "", func(f Fault) bool { return f.PerSecond == 50 }},
		{`{"kind":"memory_leak","bytes_per_second":"10MiB"}`, "", func(f Fault) bool { return f.BytesPerSecond == 10<<20 }},
		{`{"kind":"memory_leak","bytes_per_second":4096}`, "", func(f Fault) bool { return f.BytesPerSecond == 4096 }},
		{`{"kind":"not_ready","failing":["telegram"]}`, "", func(f Fault) bool { return f.Failing[0] == "telegram" }},
		{`{"kind":"reasoning_degraded","fail_ratio":0.25}`, "", func(f Fault) bool { return f.FailRatio == 0.25 }},
		{`{"kind":"reasoning_degraded"}`, "", func(f Fault) bool { return f.FailRatio == 1 }},
		{`{"kind":"error_burst","pattern":"ModelNotResponding","per_second":20}`, "", func(f Fault) bool { return f.Pattern == "ModelNotResponding" }},
		{`{"kind":"log_flood","bytes_per_second":"50MiB"}`, "", func(f Fault) bool { return f.BytesPerSecond == 50<<20 }},
		{`{"kind":"crash"}`, "", func(f Fault) bool { return f.Kind == FaultCrash }},
		{`{"kind":"rpc_hang"}`, "", func(f Fault) bool { return f.At == RPCHangAtConnect }},
		{`{"kind":"rpc_hang","at":"health"}`, "", func(f Fault) bool { return f.At == RPCHangAtHealth }},
		{`{"kind":"channel_down"}`, "", func(f Fault) bool { return f.Channel == "telegram" }},
		{`{"kind":"channel_down","channel":"discord"}`, "", func(f Fault) bool { return f.Channel == "discord" }},
		{`{"kind":"model_runtime_degraded"}`, "", func(f Fault) bool { return len(f.PendingAgents) == 1 && f.PendingAgents[0] == "main" }},
		{`{"kind":"plugin_error","plugin":"memory-core"}`, "", func(f Fault) bool { return f.Plugin == "memory-core" }},

		{`not json`, "body:", nil},
		{`{}`, "kind: missing", nil},
		{`{"kind":7}`, "kind: want a string", nil},
		{`{"kind":"meltdown"}`, `kind: unknown fault kind "meltdown"`, nil},
		{`{"kind":"slow"}`, "latency: required", nil},
		{`{"kind":"slow","latency":"soon"}`, "latency: want a positive duration", nil},
		{`{"kind":"slow","latency":"-1s"}`, "latency: want a positive duration", nil},
		{`{"kind":"hang","latency":"1s"}`, `latency: not a field of kind "hang"`, nil},
		{`{"kind":"event_loop_stall","every":"10s","duration":"10s"}`, "duration: 10s must be shorter than every", nil},
		{`{"kind":"fd_leak","per_second":-3}`, "per_second: want a positive number", nil},
		{`{"kind":"memory_leak","bytes_per_second":"lots"}`, "bytes_per_second: want a size", nil},
		{`{"kind":"not_ready","failing":[]}`, "failing: want a non-empty list", nil},
		{`{"kind":"reasoning_degraded","fail_ratio":1.5}`, "fail_ratio: want a number from 0 to 1", nil},
		{`{"kind":"error_burst","pattern":"a\nb","per_second":1}`, "pattern: want a non-empty one-line string", nil},
		{`{"kind":"rpc_hang","at":"later"}`, `at: want "connect" or "health"`, nil},
		{`{"kind":"channel_down","channel":"irc"}`, "channel: want one of the simulated channels discord, telegram", nil},
		{`{"kind":"channel_down","sticky":"yes"}`, "sticky: want true or false, got \"yes\"", nil},
		{`{"kind":"safe_mode"}`, "", func(f Fault) bool { return f.Kind == FaultSafeMode }},
		{`{"kind":"agent_turn"}`, "", func(f Fault) bool { return f.Kind == FaultAgentTurn }},
		{`{"kind":"agent_turn","channel":"telegram"}`, `channel: not a field of kind "agent_turn"`, nil},
		{`{"kind":"model_runtime_degraded","pending_agents":[]}`, "pending_agents: want a non-empty list", nil},
		{`{"kind":"plugin_error","plugin":"Bad Name"}`, "plugin: want an id", nil},
	}
	for _, c := range cases {
		f, err := ParseFault([]byte(c.body))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseFault(%s) error = %v, want it to contain %q", c.body, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFault(%s): %v", c.body, err)
			continue
		}
		if !c.check(f) {
			t.Errorf("ParseFault(%s) = %+v", c.body, f)
		}
	}
}
