package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// The alert labels that name a channel account: the exporter's
// openclaw_gateway_health_channel_* series carry them, and so do the alerts
// on those series.
const (
	ChannelLabel = "channel"
	AccountLabel = "account"
)

// rpcCallTimeout bounds each RPC of restart_channel: the gateway answers
// them in milliseconds when it is well (docs/openclaw.md).
const rpcCallTimeout = 15 * time.Second

// restartChannelAction stops and starts one channel account through the
// gateway's own RPC (channels.stop, channels.start: credentials kept, the
// gateway and its other channels untouched) and waits until the health
// snapshot reports it connected again. The smallest cure of a dead channel;
// a full restart is the escalation when it does not come back.
type restartChannelAction struct{}

func (restartChannelAction) Spec() Spec {
	// Not disruptive: the gateway and its other channels keep running, so
	// it neither counts against the target's restart budget nor waits for
	// the cooldown. Its own verification is the channel's reconnection.
	return Spec{Name: "restart_channel", ByLabel: true}
}

func (restartChannelAction) Run(ctx context.Context, env *Env) (Result, error) {
	t := env.Target
	token, addr := t.Token(), t.RPCAddr()
	if token == "" {
		return Result{}, fmt.Errorf("%w: restart_channel needs the gateway's RPC: target %s has no token_file", ErrRefused, t.Name)
	}
	snap, err := health(ctx, addr, token)
	if err != nil {
		return Result{}, fmt.Errorf("%w: the health RPC, which names the gateway's channels, failed: %v", ErrRefused, err)
	}
	ch, err := channelOf(snap, env.Incident.Labels)
	if err != nil {
		return Result{}, err
	}
	var log []string
	say := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	done := func(err error) (Result, error) { return Result{Output: strings.Join(log, "\n")}, err }
	name := ch.Channel + "/" + ch.Account
	if ch.SafeMode {
		// The gateway's own recovery SOP: a manual channels.start is the
		// override of its crash-loop breaker, for this account only.
		say("channel %s: held by the gateway's safe mode (crash-loop breaker); starting it by hand overrides that for this account only", name)
	}

	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, rpcCallTimeout)
	stop, err := openclaw.StopChannel(cctx, addr, token, ch.Channel, ch.Account)
	cancel()
	if err != nil {
		return done(fmt.Errorf("channels.stop %s: %w", name, err))
	}
	say("channels.stop %s: stopped=%t", name, stop.Stopped)
	cctx, cancel = context.WithTimeout(ctx, rpcCallTimeout)
	started, err := openclaw.StartChannel(cctx, addr, token, ch.Channel, ch.Account)
	cancel()
	if err != nil {
		return done(fmt.Errorf("channels.start %s: %w", name, err))
	}
	say("channels.start %s: %s", name, started)
	if started.Outcome.Status == "skipped" {
		// Disabled, unconfigured, unlinked, a secret unavailable: a
		// restart of the gateway would not start it either.
		return done(fmt.Errorf("channels.start %s skipped it: %s", name, started.Outcome.Reason))
	}

	// channels.start reports the runtime running, not the provider
	// connected: only the health snapshot says that.
	deadline := time.Duration(t.Verify.Timeout)
	every := time.Duration(t.Verify.Interval)
	wctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := "no answer from the health RPC"
	for {
		snap, err := health(wctx, addr, token)
		switch {
		case err != nil && wctx.Err() != nil:
			// The deadline cut this probe short: what the gateway said
			// before stands.
		case err != nil:
			last = "health RPC: " + err.Error()
		default:
			now, ok := snap.Channel(ch.Channel, ch.Account)
			switch {
			case !ok:
				last = "the snapshot no longer reports it"
			case now.Connected != nil && *now.Connected && (now.Running == nil || *now.Running):
				say("channel %s connected again %s after the stop", name, time.Since(start).Round(time.Millisecond))
				return done(nil)
			default:
				last = describeChannel(now)
			}
		}
		select {
		case <-wctx.Done():
			say("channel %s not connected %s after the stop: %s", name, deadline, last)
			return done(fmt.Errorf("channel %s did not reconnect within %s (%s)", name, deadline, last))
		case <-tick.C:
		}
	}
}

// channelOf finds the account the alert names in the gateway's own
// snapshot. Labels are untrusted: what is not in the snapshot is refused,
// and what the RPCs get are the snapshot's strings, not the labels'.
func channelOf(snap *openclaw.HealthSnapshot, labels map[string]string) (openclaw.ChannelHealth, error) {
	channel, account := labels[ChannelLabel], labels[AccountLabel]
	if channel == "" {
		return openclaw.ChannelHealth{}, fmt.Errorf("%w: the alert has no %s label", ErrRefused, ChannelLabel)
	}
	var found []openclaw.ChannelHealth
	for _, ch := range snap.Channels {
		if ch.Channel == channel && (account == "" || ch.Account == account) {
			found = append(found, ch)
		}
	}
	switch {
	case len(found) == 0 && account == "":
		return openclaw.ChannelHealth{}, fmt.Errorf("%w: the gateway reports no channel %q", ErrRefused, channel)
	case len(found) == 0:
		return openclaw.ChannelHealth{}, fmt.Errorf("%w: the gateway reports no account %q of channel %q", ErrRefused, account, channel)
	case len(found) > 1:
		return openclaw.ChannelHealth{}, fmt.Errorf("%w: channel %q has %d accounts and the alert has no %s label to choose one", ErrRefused, channel, len(found), AccountLabel)
	}
	if c := found[0].Configured; c != nil && !*c {
		return openclaw.ChannelHealth{}, fmt.Errorf("%w: the gateway reports %s/%s as not configured", ErrRefused, channel, found[0].Account)
	}
	return found[0], nil
}

func describeChannel(ch openclaw.ChannelHealth) string {
	b := func(p *bool) string {
		if p == nil {
			return "?"
		}
		return fmt.Sprint(*p)
	}
	s := "running=" + b(ch.Running) + " connected=" + b(ch.Connected)
	if ch.LastError != "" {
		e := ch.LastError
		if len(e) > 200 {
			e = e[:200] + "…"
		}
		s += " lastError=" + e
	}
	return s
}

// health takes one health snapshot within rpcCallTimeout.
func health(ctx context.Context, addr, token string) (*openclaw.HealthSnapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, rpcCallTimeout)
	defer cancel()
	snap, _, err := openclaw.ProbeHealth(ctx, addr, token)
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// errSafeMode is restart's refusal of a gateway in safe mode.
var errSafeMode = errors.New("the gateway is in its restart-recovery safe mode")
