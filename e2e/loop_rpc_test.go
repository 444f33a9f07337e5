//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	expconfig "github.com/clawwatch/clawwatch/exporter/config"
	remconfig "github.com/clawwatch/clawwatch/remediator/config"

	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// rpcLoop are the options of a loop on a simulator with a token: the
// exporter probes its RPC every second, the remediator verifies by RPC too.
func rpcLoop(t *testing.T, token string) loopOptions {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "gateway.token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return loopOptions{
		// The token in the simulator's flags, so that its restarts have it.
		sim:     simtest.Options{Args: []string{"--token-file", tokenFile}},
		gateway: func(g *expconfig.Gateway) { g.TokenFile, g.RPCInterval = tokenFile, model.Duration(time.Second) },
		target:  func(t *remconfig.Target) { t.TokenFile = tokenFile },
	}
}

// TestLoopRPCHang is the hidden hang of seed 001 through the whole loop at
// demo timings: the simulator's RPC stops answering while /healthz,
// /readyz, the process and the log stay fine. The exporter's RPC probe
// (the gateway has a token) sees it, OpenClawGatewayRPCHung fires while
// openclaw_gateway_up stays 1 and OpenClawGatewayHung stays quiet, the
// remediator restarts the gateway, verifies it by RPC as well, and the
// alert resolves.
func TestLoopRPCHang(t *testing.T) {
	t.Parallel()
	const token = "loop-rpc-token"
	l := startLoop(t, rpcLoop(t, token))
	l.waitFor(`openclaw_gateway_rpcprobe_success == 1 and on (gateway) openclaw_gateway_health_channel_connected{channel="telegram"} == 1`)
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"rpc_hang"}`)

	var firing time.Time
	simtest.Eventually(t, l.patience, func() error {
		if st, err := l.alertState("OpenClawGatewayRPCHung"); err != nil || st != "firing" {
			return fmt.Errorf("OpenClawGatewayRPCHung is %q (%v)", st, err)
		}
		firing = time.Now()
		return nil
	})
	// Hidden: from the fault to the alert, every /healthz probe answered
	// and the hung-gateway alert saw nothing.
	since := fmt.Sprintf("%ds", int(time.Since(fault).Seconds()))
	for _, q := range []string{
		`min_over_time(openclaw_gateway_up[` + since + `]) == 1`,
		`min_over_time(openclaw_gateway_ready[` + since + `]) == 1`,
		`openclaw_gateway_rpcprobe_success == 0`,
		`increase(openclaw_gateway_rpcprobe_failures_total{reason="timeout"}[` + since + `]) > 0`,
	} {
		if v, err := l.query(q); err != nil || len(v) == 0 {
			t.Errorf("while OpenClawGatewayRPCHung fires: %s is empty (%v)", q, err)
		}
	}
	for _, quiet := range []string{"OpenClawGatewayHung", "OpenClawGatewayDown"} {
		if st, _ := l.alertState(quiet); st != "" {
			t.Errorf("%s is %q: the hang was visible over HTTP", quiet, st)
		}
	}

	addr := "127.0.0.1:" + strconv.Itoa(l.sim.Port)
	tl := l.recover(fault, "OpenClawGatewayRPCHung", "restart", l.restartedFrom(pid, func(openclawState) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _, err := openclaw.ProbeHealth(ctx, addr, token)
		return err
	}))
	tl.firing = firing

	// The restart was verified by RPC, and its evidence holds the hang.
	var verification, evidence string
	for _, inc := range l.mustIncidents() {
		if inc.AlertName == "OpenClawGatewayRPCHung" && len(inc.Actions) > 0 {
			last := inc.Actions[len(inc.Actions)-1]
			verification = last.Verification
			if dir, _, ok := strings.Cut(strings.TrimPrefix(last.Output, "evidence: "), "\n"); ok {
				b, _ := os.ReadFile(filepath.Join(strings.TrimSuffix(dir, " "), "health-rpc.txt"))
				evidence = string(b)
			}
		}
	}
	if !strings.Contains(verification, "the health RPC answering too") {
		t.Errorf("verification %q does not say the RPC answered", verification)
	}
	if !strings.Contains(evidence, "failed") || !strings.Contains(evidence, "timeout") {
		t.Errorf("the evidence before the restart does not hold the RPC timeout: %q", evidence)
	}
	l.logScenario("rpc_hang", tl)
}

// TestLoopChannelRestart: a channel of the simulator disconnects while the
// gateway stays healthy; OpenClawGatewayChannelDisconnected fires, the
// remediator restarts that channel alone through the gateway's RPC
// (channels.stop, channels.start), the channel reconnects and the alert
// resolves, and the gateway's process is the same one throughout.
func TestLoopChannelRestart(t *testing.T) {
	t.Parallel()
	l := startLoop(t, rpcLoop(t, "loop-channel-token"))
	l.waitFor(`openclaw_gateway_health_channel_connected{channel="discord"} == 1`)
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"channel_down","channel":"discord"}`)
	tl := l.recover(fault, "OpenClawGatewayChannelDisconnected", "restart_channel", func() error {
		if v, err := l.query(`openclaw_gateway_health_channel_connected{channel="discord",account="default"} == 1`); err != nil || len(v) == 0 {
			return fmt.Errorf("discord not connected again in Prometheus (%v)", err)
		}
		return nil
	})
	if now, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port); err != nil || now != pid {
		t.Errorf("gateway pid %d (%v) after restart_channel, want %d untouched", now, err, pid)
	}
	var out string
	for _, inc := range l.mustIncidents() {
		if inc.Action == "restart" {
			t.Errorf("the gateway was restarted (incident %s for %s)", inc.ID, inc.AlertName)
		}
		if inc.Action == "restart_channel" && len(inc.Actions) > 0 {
			out = inc.Actions[len(inc.Actions)-1].Output
		}
	}
	for _, want := range []string{"channels.stop discord/default: stopped=true", "channels.start discord/default: started=true", "connected again"} {
		if !strings.Contains(out, want) {
			t.Errorf("journaled output lacks %q:\n%s", want, out)
		}
	}
	l.logScenario("channel_down", tl)
}

// TestLoopChannelEscalation: a channel that a channel restart cannot bring
// back (an upstream outage: the fault is sticky). restart_channel fails
// after waiting for it, is not retried, and the escalation,
// OpenClawGatewayChannelDisconnectedPersistent (a minute at demo timings),
// restarts the gateway, which cures it here (a new process has no fault).
func TestLoopChannelEscalation(t *testing.T) {
	t.Parallel()
	o := rpcLoop(t, "loop-channel-token")
	// The channel's restart waits 5 s for the channel, not the gateway's
	// 30 s verification.
	o.verifyTimeout = "5s"
	l := startLoop(t, o)
	l.waitFor(`openclaw_gateway_health_channel_connected{channel="telegram"} == 1`)
	pid := l.sim.PID
	fault := time.Now()
	l.sim.Fault(t, `{"kind":"channel_down","channel":"telegram","sticky":true}`)
	// First the channel's restart, which fails: the channel stays down.
	simtest.Eventually(t, l.patience, func() error {
		for _, inc := range l.mustIncidents() {
			if inc.Action == "restart_channel" && len(inc.Actions) > 0 && inc.Actions[len(inc.Actions)-1].EndedAt != nil {
				if last := inc.Actions[len(inc.Actions)-1]; last.Result != "failure" || !strings.Contains(last.Error, "did not reconnect within 5s") {
					return fmt.Errorf("restart_channel ended %s: %s", last.Result, last.Error)
				}
				if len(inc.Actions) != 1 {
					t.Errorf("restart_channel was attempted %d times, want once", len(inc.Actions))
				}
				return nil
			}
		}
		return fmt.Errorf("no finished restart_channel yet")
	})
	if now, err := openclaw.DefaultProcFS.ListenerPID(l.sim.Port); err != nil || now != pid {
		t.Errorf("gateway pid %d (%v) after the failed restart_channel, want %d untouched", now, err, pid)
	}
	// Then the escalation restarts the gateway.
	tl := l.recover(fault, "OpenClawGatewayChannelDisconnectedPersistent", "restart", l.restartedFrom(pid, func(openclawState) error {
		if v, err := l.query(`openclaw_gateway_health_channel_connected{channel="telegram",account="default"} == 1`); err != nil || len(v) == 0 {
			return fmt.Errorf("telegram not connected after the restart (%v)", err)
		}
		return nil
	}))
	l.logScenario("channel_down_sticky", tl)
}
