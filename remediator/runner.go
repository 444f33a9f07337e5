package remediator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/verify"
)

// runner works through one target's incidents in arrival order: the
// per-target lock of the gate stage.
type runner struct {
	name  string
	queue []string
	busy  bool
	wake  chan struct{}
}

// enqueue hands an incident to its target's runner, starting the runner on
// first use.
func (r *Remediator) enqueue(target, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return // journaled; the next start queues it again
	}
	rn := r.runners[target]
	if rn == nil {
		rn = &runner{name: target, wake: make(chan struct{}, 1)}
		r.runners[target] = rn
		r.wg.Add(1)
		go r.run(rn)
	}
	rn.queue = append(rn.queue, id)
	wake(rn)
}

// wake makes a runner look at its queue and the configuration again.
func wake(rn *runner) {
	select {
	case rn.wake <- struct{}{}:
	default:
	}
}

func (r *Remediator) run(rn *runner) {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		if len(rn.queue) == 0 {
			rn.busy = false
			if r.cfg.Load().Target(rn.name) == nil {
				// The target left the configuration: nothing more comes
				// for it, and enqueue starts a new runner if it does.
				delete(r.runners, rn.name)
				r.mu.Unlock()
				return
			}
			r.mu.Unlock()
			select {
			case <-r.ctx.Done():
				return
			case <-rn.wake:
				continue
			}
		}
		id := rn.queue[0]
		rn.queue = rn.queue[1:]
		rn.busy = true
		r.mu.Unlock()
		if r.ctx.Err() != nil {
			return
		}
		r.process(id)
	}
}

// process takes one incident through gate, act and verify.
func (r *Remediator) process(id string) {
	cfg := r.cfg.Load()
	now := r.now()
	var (
		inc      *journal.Incident
		decision string
	)
	decide := func(tx journal.Tx) error {
		var err error
		decision = ""
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		if inc.State != journal.StateReceived && inc.State != journal.StateQueued {
			inc = nil // decided meanwhile (approved twice, recovered)
			return nil
		}
		if cfg.Target(inc.Target) == nil {
			decision = journal.DecisionNoMatch
			inc.State, inc.Decision, inc.Reason, inc.UpdatedAt = journal.StateDone, decision, "target no longer configured", now
			return tx.PutIncident(inc)
		}
		ts, err := tx.Target(inc.Target)
		if err != nil {
			return err
		}
		if inc.State == journal.StateReceived {
			d, reason := gate.Decide(ts, inc.Action, cfg.Limits, now)
			switch {
			case d != "":
				decision, inc.Reason = d, reason
			case inc.DryRun:
				decision, inc.Reason = journal.DecisionDryRun, fmt.Sprintf("dry run: would %s %s", inc.Action, inc.Target)
			case inc.Approval:
				decision, inc.Reason = journal.DecisionPendingApproval, "waits for approval"
				exp := now.Add(time.Duration(cfg.Approval.Timeout))
				inc.State, inc.Decision, inc.ExpiresAt, inc.UpdatedAt = journal.StatePending, decision, &exp, now
				// Known as pending before anyone can read it from the
				// journal; dropped again if the commit fails.
				r.mu.Lock()
				r.pending[inc.ID] = now
				r.mu.Unlock()
				if err := tx.PutTarget(ts); err != nil {
					return err
				}
				return tx.PutIncident(inc)
			}
			if decision != "" {
				inc.State, inc.Decision, inc.UpdatedAt = journal.StateDone, decision, now
				if err := tx.PutTarget(ts); err != nil {
					return err
				}
				return tx.PutIncident(inc)
			}
		}
		// An approved incident skips the limits: a human confirmed it.
		decision = journal.DecisionExecuted
		inc.Decision = decision
		return r.beginAttempt(tx, inc, ts, now)
	}
	err := r.journal.Update(func(tx journal.Tx) error {
		if err := decide(tx); err != nil {
			return err
		}
		// Counted before the commit makes the decision visible, so that
		// whoever reads it from the journal also sees it counted.
		if inc != nil {
			r.m.incidents.WithLabelValues(decision).Inc()
		}
		return nil
	})
	if err != nil {
		r.dropPending(id)
		r.journalError("decide", err)
		return
	}
	if inc == nil {
		return
	}
	switch decision {
	case journal.DecisionExecuted:
	case journal.DecisionPendingApproval:
		r.logger.Info("incident waits for approval", "incident", inc.ID, "action", inc.Action, "target", inc.Target)
		return
	default:
		r.logger.Info("incident not acted on", "incident", inc.ID, "decision", decision, "reason", inc.Reason)
		return
	}
	r.act(cfg, inc)
}

// beginAttempt journals the start of an attempt before anything is done, so
// that a crash leaves it marked running and a restart marks it interrupted.
func (r *Remediator) beginAttempt(tx journal.Tx, inc *journal.Incident, ts *journal.Target, now time.Time) error {
	gate.Begin(ts, inc.Action, now)
	inc.State, inc.UpdatedAt = journal.StateRunning, now
	inc.Actions = append(inc.Actions, journal.Action{Attempt: len(inc.Actions) + 1, Action: inc.Action, Target: inc.Target, StartedAt: now})
	if err := tx.PutTarget(ts); err != nil {
		return err
	}
	return tx.PutIncident(inc)
}

// act runs attempts until one succeeds, the action is not retried, or the
// circuit opens.
func (r *Remediator) act(cfg *config.Config, inc *journal.Incident) {
	for {
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			r.finish(cfg, inc, journal.ResultInterrupted, "", "", r.ctx.Err(), 0)
			return
		}
		r.m.running.Inc()
		start := time.Now()
		result, output, verification, err := r.execute(cfg, inc)
		elapsed := time.Since(start)
		r.m.running.Dec()
		<-r.sem
		outcome := r.finish(cfg, inc, result, output, verification, err, elapsed)
		if outcome != gate.Retry {
			return
		}
		select {
		case <-time.After(time.Duration(cfg.Limits.RetryDelay)):
		case <-r.ctx.Done():
			return
		}
		cfg = r.cfg.Load()
		if cfg.Target(inc.Target) == nil {
			return
		}
		err = r.journal.Update(func(tx journal.Tx) error {
			ts, err := tx.Target(inc.Target)
			if err != nil {
				return err
			}
			cur, err := tx.Incident(inc.ID)
			if err != nil {
				return err
			}
			inc = cur
			return r.beginAttempt(tx, inc, ts, r.now())
		})
		if err != nil {
			r.journalError("retry", err)
			return
		}
		r.logger.Info("retrying", "incident", inc.ID, "action", inc.Action, "target", inc.Target, "attempt", len(inc.Actions))
	}
}

// finish journals an attempt's end and feeds the gate; it returns whether to
// retry.
func (r *Remediator) finish(cfg *config.Config, inc *journal.Incident, result, output, verification string, actErr error, elapsed time.Duration) gate.Outcome {
	// Asked before the transaction: a network call must not hold the
	// journal's write lock, which every webhook needs.
	healthyVersion := ""
	if act, ok := actions.Lookup(inc.Action); ok && result == journal.ResultSuccess && act.Spec().RecordsVersion {
		healthyVersion = r.runningVersion(cfg, inc.Target)
	}
	now := r.now()
	var outcome gate.Outcome
	var ts *journal.Target
	if r.ctx.Err() != nil && result != journal.ResultSuccess {
		result = journal.ResultInterrupted
	}
	err := r.journal.Update(func(tx journal.Tx) error {
		var err error
		if ts, err = tx.Target(inc.Target); err != nil {
			return err
		}
		// Deliveries and resolution may have been journaled meanwhile;
		// only the runner writes actions and state.
		cur, err := tx.Incident(inc.ID)
		if err != nil {
			return err
		}
		cur.Actions, cur.State, cur.Decision = inc.Actions, inc.State, inc.Decision
		inc = cur
		a := &inc.Actions[len(inc.Actions)-1]
		a.EndedAt, a.Result = &now, result
		a.Output, a.Verification = journal.Truncate(output), journal.Truncate(verification)
		if actErr != nil {
			a.Error = journal.Truncate(actErr.Error())
		}
		switch {
		case result == journal.ResultInterrupted:
			outcome = gate.Done
		case errors.Is(actErr, actions.ErrRefused):
			gate.Withdraw(ts, inc.Action, a.StartedAt)
			outcome = gate.Done
		default:
			outcome = gate.Finish(ts, inc.Action, result == journal.ResultSuccess, cfg.Limits, now)
		}
		if healthyVersion != "" {
			ts.RecordVersion(healthyVersion, now)
		}
		inc.UpdatedAt = now
		if outcome != gate.Retry {
			inc.State = journal.StateDone
			inc.Reason = result
			switch {
			case outcome == gate.Opened:
				inc.Reason = "escalated: " + ts.Reason
			case errors.Is(actErr, actions.ErrRefused):
				inc.Reason = actErr.Error()
			}
		}
		// Metrics move before the commit makes the end visible, so that
		// whoever sees the journaled result also sees it counted.
		r.m.actions.WithLabelValues(inc.Action, inc.Target, result).Inc()
		if elapsed > 0 {
			r.m.duration.WithLabelValues(inc.Action).Observe(elapsed.Seconds())
		}
		if outcome == gate.Opened {
			r.m.circuit.WithLabelValues(inc.Target).Set(1)
		}
		if err := tx.PutTarget(ts); err != nil {
			return err
		}
		return tx.PutIncident(inc)
	})
	if err != nil {
		r.journalError("finish", err)
	}
	log := r.logger.With("incident", inc.ID, "action", inc.Action, "target", inc.Target, "attempt", len(inc.Actions), "result", result, "duration", elapsed.Round(time.Millisecond))
	if actErr != nil {
		log.Warn("action failed", "err", actErr)
	} else {
		log.Info("action finished", "verification", verification)
	}
	if outcome == gate.Opened && ts != nil {
		log.Error("circuit opened; no more actions on this target until a reset or the quiet period", "reason", ts.Reason)
		r.escalate(cfg, inc, ts)
	}
	return outcome
}

// execute runs one attempt and verifies it.
func (r *Remediator) execute(cfg *config.Config, inc *journal.Incident) (result, output, verification string, err error) {
	t := cfg.Target(inc.Target)
	ctx := r.ctx
	act, ok := actions.Lookup(inc.Action)
	if !ok {
		return journal.ResultFailure, "", "", fmt.Errorf("unknown action %q", inc.Action)
	}
	drv, err := driver.New(t, r.procs)
	if err != nil {
		return journal.ResultFailure, "", "", err
	}
	env := &actions.Env{
		Config: cfg, Target: t, Incident: inc, Driver: drv, Client: r.client(t.Name), Procs: r.procs, Now: r.now(),
		Versions: func() ([]journal.Version, error) {
			ts, err := r.journal.Target(t.Name)
			if err != nil {
				return nil, err
			}
			return ts.Versions, nil
		},
	}
	res, err := act.Run(ctx, env)
	output = res.Output
	if err != nil {
		if errors.Is(err, actions.ErrRefused) {
			return journal.ResultRefused, output, "", err
		}
		return journal.ResultFailure, output, "", err
	}
	if !act.Spec().Verified && !res.Verify {
		return journal.ResultSuccess, output, "", nil
	}
	verification, err = verify.Until(ctx, verify.Prober{Client: env.Client, URL: t.URL, RPCAddr: t.RPCAddr(), Token: t.Token()}, time.Duration(t.Verify.Timeout), time.Duration(t.Verify.Interval))
	if err != nil {
		return journal.ResultVerifyFailed, output, err.Error(), err
	}
	if res.Version != "" {
		// Healthy is not enough: an update command that returned before it
		// restarted the gateway leaves the bad version answering.
		v, verr := env.RunningVersion(ctx)
		switch {
		case verr != nil:
			verification += fmt.Sprintf("; running version not discoverable (%v)", verr)
		case v != res.Version:
			err = fmt.Errorf("healthy, but the gateway runs %s, not %s", v, res.Version)
			return journal.ResultVerifyFailed, output, verification + "; " + err.Error(), err
		default:
			verification += "; runs " + v
		}
	}
	return journal.ResultSuccess, output, verification, nil
}

// runningVersion asks the gateway which version it runs, for the record of
// versions that verified healthy: its Control UI, else the install its
// process runs from. Only a version that passes the target's pattern is
// returned, so that nothing a rollback would refuse is ever recorded.
func (r *Remediator) runningVersion(cfg *config.Config, target string) string {
	t := cfg.Target(target)
	if t == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	pid := 0
	if drv, err := driver.New(t, r.procs); err == nil {
		pid = driver.PID(drv)
	}
	v, err := openclaw.DiscoverVersion(ctx, r.client(target), t.URL, r.procs, pid)
	if err != nil {
		r.logger.Debug("running version not discoverable; not recorded", "target", target, "err", err)
		return ""
	}
	if !actions.ValidVersion(v.Version, t.Rollback.VersionRegexp()) {
		r.logger.Warn("running version does not match the version pattern; not recorded", "target", target,
			"version", strconv.Quote(v.Version), "pattern", t.Rollback.VersionPattern)
		return ""
	}
	return v.Version
}

// escalate calls the notify webhook, if any, when a circuit opens.
func (r *Remediator) escalate(cfg *config.Config, inc *journal.Incident, ts *journal.Target) {
	r.mu.Lock()
	client := r.notify
	r.mu.Unlock()
	if cfg.Notify == nil || client == nil {
		return
	}
	msg := map[string]any{
		"event": "circuit_open", "target": inc.Target, "action": inc.Action, "incident": inc.ID,
		"alertname": inc.AlertName, "reason": ts.Reason, "openedAt": ts.OpenedAt,
	}
	if r.pageURL != nil {
		msg["incidentURL"] = r.pageURL(inc.ID) // where a person reads what was tried
	}
	body, _ := json.Marshal(msg)
	url := cfg.Notify.URL
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		req, err := http.NewRequestWithContext(r.ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			r.logger.Error("escalation notify failed", "err", err)
		}
	}()
}
