package gatewaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/units"
)

// Fault kinds of the control API. The JSON contract is public: tests and the
// demo post these.
const (
	FaultHang              = "hang"
	FaultSlow              = "slow"
	FaultEventLoopStall    = "event_loop_stall"
	FaultFDLeak            = "fd_leak"
	FaultMemoryLeak        = "memory_leak"
	FaultNotReady          = "not_ready"
	FaultReasoningDegraded = "reasoning_degraded"
	FaultErrorBurst        = "error_burst"
	FaultLogFlood          = "log_flood"
	FaultCrash             = "crash"
	// The RPC faults: what the gateway says of itself over its WebSocket
	// RPC, invisible to the HTTP probes.
	FaultRPCHang              = "rpc_hang"
	FaultChannelDown          = "channel_down"
	FaultModelRuntimeDegraded = "model_runtime_degraded"
	FaultPluginError          = "plugin_error"
	// FaultSafeMode is the gateway's restart-recovery safe mode: its
	// crash-loop breaker holds every channel account stopped, each with the
	// breaker's lastError, until an operator's channels.start.
	FaultSafeMode = "safe_mode"
	// FaultAgentTurn is an agent turn in flight for as long as it is in
	// force: sessions.list with activeOnly reports one running session,
	// as the real gateway does while its model has not answered.
	FaultAgentTurn = "agent_turn"
)

// Where rpc_hang stops answering: the connect request (the default) or the
// health request after a good handshake.
const (
	RPCHangAtConnect = "connect"
	RPCHangAtHealth  = "health"
)

// faultFields lists, per kind, the fields it takes and whether each is required.
var faultFields = map[string]map[string]bool{
	FaultHang:                 {},
	FaultSlow:                 {"latency": true},
	FaultEventLoopStall:       {"every": true, "duration": true},
	FaultFDLeak:               {"per_second": true},
	FaultMemoryLeak:           {"bytes_per_second": true},
	FaultNotReady:             {"failing": true},
	FaultReasoningDegraded:    {"fail_ratio": false}, // default 1.0
	FaultErrorBurst:           {"pattern": true, "per_second": true},
	FaultLogFlood:             {"bytes_per_second": true},
	FaultCrash:                {},
	FaultRPCHang:              {"at": false},                       // default connect
	FaultChannelDown:          {"channel": false, "sticky": false}, // default telegram; sticky: a channel restart does not heal it
	FaultSafeMode:             {},
	FaultAgentTurn:            {},
	FaultModelRuntimeDegraded: {"pending_agents": false}, // default ["main"]
	FaultPluginError:          {"plugin": false},         // default whatsapp
}

// Fault is a validated fault request.
type Fault struct {
	Kind           string
	Latency        time.Duration
	Every          time.Duration
	Duration       time.Duration
	PerSecond      float64
	BytesPerSecond int64
	Failing        []string
	FailRatio      float64
	Pattern        string
	At             string   // rpc_hang
	Channel        string   // channel_down
	Sticky         bool     // channel_down survives channels.stop/start
	PendingAgents  []string // model_runtime_degraded
	Plugin         string   // plugin_error

	// Spec is the request as posted, compacted, echoed by GET /faults.
	Spec json.RawMessage
}

// ParseFault decodes and validates a POST /faults body. Errors name the
// offending field.
func ParseFault(body []byte) (Fault, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return Fault{}, fmt.Errorf("body: want a JSON object: %v", err)
	}
	var f Fault
	rawKind, ok := fields["kind"]
	if !ok {
		return Fault{}, fmt.Errorf("kind: missing (want one of %s)", kindList())
	}
	if err := json.Unmarshal(rawKind, &f.Kind); err != nil {
		return Fault{}, fmt.Errorf("kind: want a string")
	}
	allowed, ok := faultFields[f.Kind]
	if !ok {
		return Fault{}, fmt.Errorf("kind: unknown fault kind %q (want one of %s)", f.Kind, kindList())
	}
	names := slices.Sorted(maps.Keys(fields))
	for _, name := range names {
		if name != "kind" {
			if _, ok := allowed[name]; !ok {
				return Fault{}, fmt.Errorf("%s: not a field of kind %q", name, f.Kind)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(allowed)) {
		if _, ok := fields[name]; allowed[name] && !ok {
			return Fault{}, fmt.Errorf("%s: required for kind %q", name, f.Kind)
		}
	}
	f.FailRatio = 1
	f.At, f.Channel, f.PendingAgents, f.Plugin = RPCHangAtConnect, "telegram", []string{"main"}, "whatsapp"
	for _, name := range names {
		if err := f.setField(name, fields[name]); err != nil {
			return Fault{}, fmt.Errorf("%s: %v", name, err)
		}
	}
	if f.Kind == FaultEventLoopStall && f.Duration >= f.Every {
		return Fault{}, fmt.Errorf("duration: %s must be shorter than every (%s); use kind %q for a permanent freeze", f.Duration, f.Every, FaultHang)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return Fault{}, fmt.Errorf("body: %v", err)
	}
	f.Spec = buf.Bytes()
	return f, nil
}

func (f *Fault) setField(name string, raw json.RawMessage) error {
	switch name {
	case "kind":
		return nil
	case "latency":
		return parseDuration(raw, &f.Latency)
	case "every":
		return parseDuration(raw, &f.Every)
	case "duration":
		return parseDuration(raw, &f.Duration)
	case "per_second":
		if err := json.Unmarshal(raw, &f.PerSecond); err != nil || f.PerSecond <= 0 {
			return fmt.Errorf("want a positive number, got %s", raw)
		}
	case "bytes_per_second":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			var n int64
			if json.Unmarshal(raw, &n) != nil {
				return fmt.Errorf("want a size such as \"10MiB\", got %s", raw)
			}
			f.BytesPerSecond = n
		} else {
			n, err := units.ParseBase2Bytes(s)
			if err != nil {
				return fmt.Errorf("want a size such as \"10MiB\", got %q", s)
			}
			f.BytesPerSecond = int64(n)
		}
		if f.BytesPerSecond <= 0 {
			return fmt.Errorf("must be positive, got %s", raw)
		}
	case "failing":
		if err := json.Unmarshal(raw, &f.Failing); err != nil || len(f.Failing) == 0 || slices.Contains(f.Failing, "") {
			return fmt.Errorf("want a non-empty list of check names, got %s", raw)
		}
	case "fail_ratio":
		if err := json.Unmarshal(raw, &f.FailRatio); err != nil || f.FailRatio < 0 || f.FailRatio > 1 {
			return fmt.Errorf("want a number from 0 to 1, got %s", raw)
		}
	case "pattern":
		if err := json.Unmarshal(raw, &f.Pattern); err != nil || strings.TrimSpace(f.Pattern) == "" || strings.ContainsAny(f.Pattern, "\r\n") {
			return fmt.Errorf("want a non-empty one-line string, got %s", raw)
		}
	case "at":
		if err := json.Unmarshal(raw, &f.At); err != nil || (f.At != RPCHangAtConnect && f.At != RPCHangAtHealth) {
			return fmt.Errorf("want %q or %q, got %s", RPCHangAtConnect, RPCHangAtHealth, raw)
		}
	case "channel":
		if err := json.Unmarshal(raw, &f.Channel); err != nil || !slices.Contains(simChannels, f.Channel) {
			return fmt.Errorf("want one of the simulated channels %s, got %s", strings.Join(simChannels, ", "), raw)
		}
	case "sticky":
		if err := json.Unmarshal(raw, &f.Sticky); err != nil {
			return fmt.Errorf("want true or false, got %s", raw)
		}
	case "plugin":
		return parseName(raw, &f.Plugin)
	case "pending_agents":
		if err := json.Unmarshal(raw, &f.PendingAgents); err != nil || len(f.PendingAgents) == 0 || slices.ContainsFunc(f.PendingAgents, func(a string) bool { return !nameRe.MatchString(a) }) {
			return fmt.Errorf("want a non-empty list of agent ids, got %s", raw)
		}
	}
	return nil
}

// nameRe is what the simulator accepts as a plugin or agent id:
// they end up in JSON the exporter turns into label values.
var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func parseName(raw json.RawMessage, dst *string) error {
	if err := json.Unmarshal(raw, dst); err != nil || !nameRe.MatchString(*dst) {
		return fmt.Errorf("want an id of lowercase letters, digits, '.', '_' or '-', got %s", raw)
	}
	return nil
}

func parseDuration(raw json.RawMessage, d *time.Duration) error {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"300ms\", got %s", raw)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("want a positive duration such as \"300ms\", got %q", s)
	}
	*d = v
	return nil
}

func kindList() string {
	return strings.Join(slices.Sorted(maps.Keys(faultFields)), ", ")
}
