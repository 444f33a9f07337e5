package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/exporter/target/targettest"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// rpcProberFor builds a prober whose gateway has a token (when token is not
// empty) and whose RPC probe is fake.
func rpcProberFor(t *testing.T, token string, fake probeFunc) *Prober {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf("gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    state_dir: %s\n    probe_timeout: 300ms\n    rpc_interval: 1h\n", dir)
	if token != "" {
		path := filepath.Join(dir, "token")
		if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		yaml += "    token_file: " + path + "\n"
	}
	p := New(targettest.New(t, yaml))
	if p.rpc != nil {
		p.rpc.probe = fake
	}
	return p
}

func collectRPC(t *testing.T, p *Prober) map[string]float64 {
	t.Helper()
	got, err := targettest.Collect(t, p)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// rpcSeries keeps the RPC probe's and the health snapshot's series.
func rpcSeries(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "openclaw_gateway_rpcprobe_") || strings.HasPrefix(k, "openclaw_gateway_health_") {
			out[k] = v
		}
	}
	return out
}

func TestRPCProbeNotConfigured(t *testing.T) {
	p := rpcProberFor(t, "", nil)
	if p.rpc != nil {
		t.Fatal("an RPC probe without a token")
	}
	got := rpcSeries(collectRPC(t, p))
	if len(got) != 1 || got["openclaw_gateway_rpcprobe_configured"] != 0 {
		t.Fatalf("without a token: %v, want only openclaw_gateway_rpcprobe_configured 0", got)
	}
}

// TestRPCProbeSnapshot: the documented channel shape (two channels, one
// with two accounts, one with fields of the wrong type) becomes bounded
// series, and what the snapshot does not carry is absent.
func TestRPCProbeSnapshot(t *testing.T) {
	payload, err := os.ReadFile("../../testdata/rpc/health-channels.json")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := openclaw.ParseHealth(payload)
	if err != nil {
		t.Fatal(err)
	}
	snap.ProtocolVersion = 4
	var gotAddr, gotToken string
	p := rpcProberFor(t, "s3cret", func(ctx context.Context, addr, token string) (*openclaw.HealthSnapshot, openclaw.RPCTimings, error) {
		gotAddr, gotToken = addr, token
		if _, ok := ctx.Deadline(); !ok {
			t.Error("RPC probe without a deadline")
		}
		return snap, openclaw.RPCTimings{Connect: time.Millisecond, Handshake: 2 * time.Millisecond, Call: 3 * time.Millisecond}, nil
	})
	if got := rpcSeries(collectRPC(t, p)); len(got) != 1+3+6 || got["openclaw_gateway_rpcprobe_configured"] != 1 {
		t.Fatalf("before the first probe: %v, want configured 1, empty histograms and zero failures only", got)
	}
	p.rpc.probeOnce(context.Background())
	if gotAddr != "127.0.0.1:1" || gotToken != "s3cret" {
		t.Errorf("probed %q with token %q", gotAddr, gotToken)
	}
	got := rpcSeries(collectRPC(t, p))
	want := map[string]float64{
		"openclaw_gateway_rpcprobe_configured":                        1,
		"openclaw_gateway_rpcprobe_success":                           1,
		"openclaw_gateway_rpcprobe_info{protocol=4}":                  1,
		"openclaw_gateway_rpcprobe_duration_seconds{phase=connect}":   1,
		"openclaw_gateway_rpcprobe_duration_seconds{phase=handshake}": 1,
		"openclaw_gateway_rpcprobe_duration_seconds{phase=call}":      1,

		"openclaw_gateway_health_channel_configured{account=default,channel=telegram}":                     1,
		"openclaw_gateway_health_channel_running{account=default,channel=telegram}":                        1,
		"openclaw_gateway_health_channel_connected{account=default,channel=telegram}":                      1,
		"openclaw_gateway_health_channel_reconnect_attempts{account=default,channel=telegram}":             0,
		"openclaw_gateway_health_channel_safe_mode{account=default,channel=telegram}":                      0,
		"openclaw_gateway_health_channel_safe_mode{account=work,channel=telegram}":                         0,
		"openclaw_gateway_health_channel_safe_mode{account=bot,channel=discord}":                           0,
		"openclaw_gateway_health_channel_last_inbound_timestamp_seconds{account=default,channel=telegram}": 1796089940,
		"openclaw_gateway_health_channel_configured{account=work,channel=telegram}":                        1,
		"openclaw_gateway_health_channel_running{account=work,channel=telegram}":                           1,
		"openclaw_gateway_health_channel_connected{account=work,channel=telegram}":                         0,
		"openclaw_gateway_health_channel_reconnect_attempts{account=work,channel=telegram}":                3,
		"openclaw_gateway_health_channel_configured{account=bot,channel=discord}":                          1,
		"openclaw_gateway_health_channel_running{account=bot,channel=discord}":                             0,
		"openclaw_gateway_health_plugins_loaded":                                                           2,
		"openclaw_gateway_health_plugins_with_errors":                                                      1,
		"openclaw_gateway_health_plugins_unavailable":                                                      1,
		"openclaw_gateway_health_sessions":                                                                 7,
		"openclaw_gateway_health_model_runtime_degraded":                                                   1,
		"openclaw_gateway_health_model_runtime_pending_agents":                                             1,
		"openclaw_gateway_health_event_loop_degraded":                                                      1,
		"openclaw_gateway_health_event_loop_degraded_reason{reason=event_loop_delay}":                      1,
		"openclaw_gateway_health_event_loop_degraded_reason{reason=event_loop_utilization}":                0,
		"openclaw_gateway_health_event_loop_degraded_reason{reason=cpu}":                                   1,
		"openclaw_gateway_health_event_loop_degraded_reason{reason=other}":                                 0,
		"openclaw_gateway_health_config_hot_reload_active":                                                 0,
		"openclaw_gateway_health_safe_mode_accounts":                                                       0,
	}
	for _, r := range openclaw.RPCReasons {
		want["openclaw_gateway_rpcprobe_failures_total{reason="+r+"}"] = 0
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	// Absent from the snapshot, absent here: "connected":"yes" is no
	// boolean, the work account never received anything, discord has no
	// reconnect count.
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s = %v, not expected", k, got[k])
		}
	}
}

// TestRPCProbeAbsentBlocks: a snapshot without modelRuntime, eventLoop,
// configReload or channels has no series for them.
func TestRPCProbeAbsentBlocks(t *testing.T) {
	snap, err := openclaw.ParseHealth([]byte(`{"ok":true,"ts":1,"plugins":{"loaded":[],"errors":[],"unavailable":[]},"channels":{},"agents":[],"sessions":{"count":0}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := rpcProberFor(t, "s3cret", func(context.Context, string, string) (*openclaw.HealthSnapshot, openclaw.RPCTimings, error) {
		return snap, openclaw.RPCTimings{}, nil
	})
	p.rpc.probeOnce(context.Background())
	got := rpcSeries(collectRPC(t, p))
	if got["openclaw_gateway_rpcprobe_success"] != 1 || got["openclaw_gateway_health_plugins_loaded"] != 0 {
		t.Errorf("success %v, plugins %v", got["openclaw_gateway_rpcprobe_success"], got["openclaw_gateway_health_plugins_loaded"])
	}
	for k := range got {
		for _, absent := range []string{"_channel_", "_model_runtime_", "_event_loop_", "_hot_reload_"} {
			if strings.Contains(k, absent) {
				t.Errorf("%s present, the snapshot has no such block", k)
			}
		}
	}
}

// TestRPCProbeSafeMode: the accounts the gateway's crash-loop breaker holds
// (its lastError says so, and they do not run) are counted.
func TestRPCProbeSafeMode(t *testing.T) {
	snap, err := openclaw.ParseHealth([]byte(`{"channels":{"telegram":{"accounts":{
		"default":{"configured":true,"running":false,"connected":false,"lastError":"gateway restart-loop breaker tripped: 3 unclean boot(s) within 300000ms; suppressing channel/provider account auto-start."},
		"work":{"configured":true,"running":false,"connected":false,"lastError":"ETIMEDOUT"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := rpcProberFor(t, "s3cret", func(context.Context, string, string) (*openclaw.HealthSnapshot, openclaw.RPCTimings, error) {
		return snap, openclaw.RPCTimings{}, nil
	})
	p.rpc.probeOnce(context.Background())
	got := rpcSeries(collectRPC(t, p))
	if got["openclaw_gateway_health_safe_mode_accounts"] != 1 {
		t.Errorf("openclaw_gateway_health_safe_mode_accounts = %v, want 1", got["openclaw_gateway_health_safe_mode_accounts"])
	}
	if got["openclaw_gateway_health_channel_safe_mode{account=default,channel=telegram}"] != 1 || got["openclaw_gateway_health_channel_safe_mode{account=work,channel=telegram}"] != 0 {
		t.Errorf("per account: %v", got)
	}
}

// TestRPCProbeFailure: a failed probe counts its reason, observes no
// duration and drops the last snapshot's series.
func TestRPCProbeFailure(t *testing.T) {
	payload, err := os.ReadFile("../../testdata/rpc/health-2026.9.6.json")
	if err != nil {
		t.Fatal(err)
	}
	good, err := openclaw.ParseHealth(payload)
	if err != nil {
		t.Fatal(err)
	}
	var fail error
	p := rpcProberFor(t, "s3cret", func(context.Context, string, string) (*openclaw.HealthSnapshot, openclaw.RPCTimings, error) {
		if fail != nil {
			return nil, openclaw.RPCTimings{}, fail
		}
		return good, openclaw.RPCTimings{}, nil
	})
	p.rpc.probeOnce(context.Background())
	if got := collectRPC(t, p); got["openclaw_gateway_rpcprobe_success"] != 1 || got["openclaw_gateway_health_plugins_loaded"] == 0 {
		t.Fatalf("after a good probe: %v", rpcSeries(got))
	}
	for i, err := range []error{
		&openclaw.RPCError{Reason: openclaw.RPCReasonTimeout, Err: context.DeadlineExceeded},
		&openclaw.RPCError{Reason: openclaw.RPCReasonAuth, Err: fmt.Errorf("token mismatch")},
		fmt.Errorf("not an RPCError"), // counted as protocol, never a new label
	} {
		fail = err
		p.rpc.probeOnce(context.Background())
		got := rpcSeries(collectRPC(t, p))
		if got["openclaw_gateway_rpcprobe_success"] != 0 {
			t.Errorf("probe %d (%v): success %v", i, err, got["openclaw_gateway_rpcprobe_success"])
		}
		for k := range got {
			if strings.HasPrefix(k, "openclaw_gateway_health_") || strings.HasPrefix(k, "openclaw_gateway_rpcprobe_info") {
				t.Errorf("probe %d (%v): %s present after a failure", i, err, k)
			}
		}
	}
	got := rpcSeries(collectRPC(t, p))
	for k, v := range map[string]float64{
		"openclaw_gateway_rpcprobe_failures_total{reason=timeout}":    1,
		"openclaw_gateway_rpcprobe_failures_total{reason=auth}":       1,
		"openclaw_gateway_rpcprobe_failures_total{reason=protocol}":   1,
		"openclaw_gateway_rpcprobe_failures_total{reason=connect}":    0,
		"openclaw_gateway_rpcprobe_duration_seconds{phase=connect}":   1, // the good probe only
		"openclaw_gateway_rpcprobe_duration_seconds{phase=handshake}": 1,
		"openclaw_gateway_rpcprobe_duration_seconds{phase=call}":      1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// TestRPCProbeHangNeitherBlocksAScrapeNorStop: a probe that never answers
// is cut at its deadline; meanwhile a scrape returns at once, and Stop ends
// the background probes.
func TestRPCProbeHangNeitherBlocksAScrapeNorStop(t *testing.T) {
	started := make(chan struct{}, 1)
	p := rpcProberFor(t, "s3cret", func(ctx context.Context, _, _ string) (*openclaw.HealthSnapshot, openclaw.RPCTimings, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, openclaw.RPCTimings{}, &openclaw.RPCError{Reason: openclaw.RPCReasonTimeout, Err: ctx.Err()}
	})
	p.rpc.timeout = time.Hour
	p.Start()
	<-started
	done := make(chan map[string]float64)
	go func() { done <- collectRPC(t, p) }()
	select {
	case got := <-done:
		if _, ok := got["openclaw_gateway_rpcprobe_success"]; ok {
			t.Errorf("success reported before any RPC probe finished: %v", rpcSeries(got))
		}
	case <-time.After(time.Minute):
		t.Fatal("a scrape waited for a hung RPC probe")
	}
	stopped := make(chan struct{})
	go func() { p.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("Stop waited for a hung RPC probe")
	}
	if got := collectRPC(t, p); got["openclaw_gateway_rpcprobe_failures_total{reason=timeout}"] != 0 {
		t.Errorf("a probe cut by Stop was counted as the gateway's timeout")
	}
}

// TestRPCProbeAgainstTheSimulator runs the real client against the
// simulator's RPC: its health snapshot becomes series, a channel that goes
// down shows, and rpc_hang fails the RPC probe by timeout while /healthz and
// /readyz stay fine, the hidden hang.
func TestRPCProbeAgainstTheSimulator(t *testing.T) {
	const token = "gateway-token"
	s := simtest.Start(t, simtest.Options{Token: token})
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	p := New(targettest.New(t, fmt.Sprintf("gateways:\n  - name: g\n    url: %s\n    state_dir: %s\n    token_file: %s\n    probe_timeout: 1s\n", s.URL, dir, tokenFile)))
	round := func() map[string]float64 {
		t.Helper()
		p.ProbeOnce(context.Background())
		p.rpc.probeOnce(context.Background())
		return collectRPC(t, p)
	}
	simtest.Eventually(t, 30*time.Second, func() error {
		got := round()
		if got["openclaw_gateway_rpcprobe_success"] != 1 || got["openclaw_gateway_ready"] != 1 {
			return fmt.Errorf("not healthy yet: %v", rpcSeries(got))
		}
		return nil
	})
	got := round()
	for k, v := range map[string]float64{
		"openclaw_gateway_rpcprobe_info{protocol=4}":                                  1,
		"openclaw_gateway_health_channel_connected{account=default,channel=telegram}": 1,
		"openclaw_gateway_health_channel_connected{account=default,channel=discord}":  1,
		"openclaw_gateway_health_model_runtime_degraded":                              0,
		"openclaw_gateway_health_event_loop_degraded":                                 0,
		"openclaw_gateway_health_config_hot_reload_active":                            1,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if got["openclaw_gateway_health_plugins_loaded"] == 0 {
		t.Errorf("no plugins loaded: %v", rpcSeries(got))
	}

	s.Fault(t, `{"kind":"channel_down","channel":"telegram"}`)
	simtest.Eventually(t, 30*time.Second, func() error {
		got := round()
		if got["openclaw_gateway_health_channel_connected{account=default,channel=telegram}"] != 0 ||
			got["openclaw_gateway_health_channel_connected{account=default,channel=discord}"] != 1 || got["openclaw_gateway_up"] != 1 {
			return fmt.Errorf("channel_down not seen: %v", rpcSeries(got))
		}
		return nil
	})

	s.Fault(t, `{"kind":"rpc_hang"}`)
	got = round()
	if got["openclaw_gateway_up"] != 1 || got["openclaw_gateway_ready"] != 1 || got["openclaw_gateway_rpcprobe_success"] != 0 ||
		got["openclaw_gateway_rpcprobe_failures_total{reason=timeout}"] != 1 {
		t.Errorf("rpc_hang: up %v, ready %v, rpc success %v, timeouts %v; want 1, 1, 0, 1", got["openclaw_gateway_up"], got["openclaw_gateway_ready"],
			got["openclaw_gateway_rpcprobe_success"], got["openclaw_gateway_rpcprobe_failures_total{reason=timeout}"])
	}
}
