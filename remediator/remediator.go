// Package remediator turns Alertmanager webhooks into safe actions on
// OpenClaw gateways. Like Alertmanager's notify package it is a chain of
// small stages, one file each; one incident goes through them in this
// order, and its state changes only through journal.Incident's methods:
//
//	receive.go        POST /api/v1/alerts: payload.Decode; match (policy →
//	                  action and target); journal.Admit stores each incident,
//	                  received (done when no policy matched), in one durable
//	                  batch before the webhook answers
//	runner.go         one runner per target takes its incidents in arrival
//	                  order, one at a time; it ends when its target leaves the
//	                  configuration
//	stage_gate.go     gate: one transaction ends the incident (refused by the
//	                  gate, dry run, target gone), holds it pending for
//	                  approval (api.go's approve queues it back to the
//	                  runner, past the limits), or begins its first attempt
//	stage_retry.go    retry: runs the stages below again while the gate says
//	                  Retry, beginning each next attempt in one transaction
//	stage_workers.go  at most Workers attempts run at once
//	stage_act.go      act: the incident's action from the registry (package
//	                  actions) runs with the target's driver
//	stage_verify.go   verify: the gateway's health after a verified action,
//	                  then, once, the version it runs
//	stage_record.go   record: one transaction ends the attempt, feeds the
//	                  gate, records a healthy version and ends the incident
//	                  unless it is retried; escalate.go when the circuit opens
//
// Housekeeping (remediator.go) expires approvals, closes quiet circuits and
// prunes the journal. Guarded upgrades (upgrade.go, upgrade_run.go,
// api_upgrade.go, package upgrade) run beside the pipeline, one at a time;
// the gate stage refuses disruptive actions on the batch's targets.
package remediator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Remediator is the running pipeline.
type Remediator struct {
	cfg     atomic.Pointer[config.Config]
	journal *journal.Journal
	logger  *slog.Logger
	m       *metrics
	procs   openclaw.ProcFS
	now     func() time.Time
	tick    time.Duration
	pageURL func(id string) string
	stages  stage

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sem    chan struct{}

	mu      sync.Mutex
	runners map[string]*runner
	pending map[string]time.Time // incident id → when it started waiting
	clients map[string]*http.Client
	notify  *http.Client
	closed  bool

	// The guarded upgrade running now (upgrade.go): its id, and the
	// targets of its current batch, which the gate keeps free.
	upgradeID   string
	upgradeHeld map[string]bool
	promURL     string
	um          *upgradeMetrics
}

// Options are the parts tests replace.
type Options struct {
	Procs openclaw.ProcFS // zero: /proc
	// Now is the clock of decisions, expiry and quiet periods; zero: time.Now.
	Now func() time.Time
	// Housekeeping is how often approvals are expired and quiet circuits
	// closed; zero: every second.
	Housekeeping time.Duration
	// IncidentURL is the address of an incident's page, for the escalation
	// notify body; nil when no external URL is configured.
	IncidentURL func(id string) string
	// PrometheusURL is where upgrades observe their batches; empty: only
	// dry runs.
	PrometheusURL string
}

// New builds a remediator over an open journal and registers its metrics.
// Start begins the work.
func New(cfg *config.Config, j *journal.Journal, reg prometheus.Registerer, logger *slog.Logger, o Options) (*Remediator, error) {
	if o.Procs.Root == "" {
		o.Procs = openclaw.DefaultProcFS
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Housekeeping <= 0 {
		o.Housekeeping = time.Second
	}
	r := &Remediator{
		journal: j,
		logger:  logger,
		procs:   o.Procs,
		now:     o.Now,
		tick:    o.Housekeeping,
		pageURL: o.IncidentURL,
		sem:     make(chan struct{}, cfg.Workers),
		runners: map[string]*runner{},
		pending: map[string]time.Time{},
		promURL: o.PrometheusURL,
	}
	r.cfg.Store(cfg)
	r.stages = r.pipeline()
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.m = newMetrics(reg, r)
	r.um = newUpgradeMetrics(reg, r)
	if err := r.apply(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// Config returns the live configuration.
func (r *Remediator) Config() *config.Config { return r.cfg.Load() }

// apply builds the per-target clients and makes sure every target has its
// series and its runner.
func (r *Remediator) apply(cfg *config.Config) error {
	clients := map[string]*http.Client{}
	for _, t := range cfg.Targets {
		c, err := config_util.NewClientFromConfig(t.HTTPClientConfig, "openclaw-remediator")
		if err != nil {
			return fmt.Errorf("target %s: http_config: %w", t.Name, err)
		}
		clients[t.Name] = c
		if _, err := t.NewDriver(r.procs); err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
	}
	var notify *http.Client
	if cfg.Notify != nil {
		c, err := config_util.NewClientFromConfig(cfg.Notify.HTTPClientConfig, "openclaw-remediator-notify")
		if err != nil {
			return fmt.Errorf("notify: http_config: %w", err)
		}
		c.Timeout = time.Duration(cfg.Notify.Timeout)
		notify = c
	}
	r.mu.Lock()
	r.clients, r.notify = clients, notify
	r.mu.Unlock()
	r.cfg.Store(cfg)
	r.mu.Lock()
	for name, rn := range r.runners {
		if cfg.Target(name) == nil {
			wake(rn) // an idle runner of a removed target ends
		}
	}
	r.mu.Unlock()
	for _, t := range cfg.Targets {
		r.m.initTarget(t.Name)
	}
	return nil
}

// Apply swaps in a reloaded configuration. The worker count and the journal
// are fixed at start; a change of them is logged and waits for a restart.
func (r *Remediator) Apply(cfg *config.Config) error {
	old := r.cfg.Load()
	if err := r.apply(cfg); err != nil {
		return err
	}
	if cfg.Workers != old.Workers {
		r.logger.Warn("workers changes only with a restart", "running", old.Workers, "configured", cfg.Workers)
	}
	if cfg.Journal.Path != old.Journal.Path {
		r.logger.Warn("journal.path changes only with a restart", "running", old.Journal.Path, "configured", cfg.Journal.Path)
	}
	return nil
}

// ReloadResult records the outcome of a configuration reload in the metrics.
func (r *Remediator) ReloadResult(err error) { r.m.reload.Record(err) }

func (r *Remediator) client(target string) *http.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.clients[target]; c != nil {
		return c
	}
	return http.DefaultClient
}

// Start recovers the journal after a restart and starts the background
// work: running actions of the previous process are marked interrupted,
// undecided incidents are queued again, pending approvals keep waiting.
func (r *Remediator) Start() error {
	rec, err := r.journal.Recover(r.now())
	if err != nil {
		r.m.journalErrors.Inc()
		return err
	}
	for _, inc := range rec.Interrupted {
		if a := inc.Actions; len(a) > 0 {
			r.m.actions.WithLabelValues(a[len(a)-1].Action, a[len(a)-1].Target, journal.ResultInterrupted).Inc()
		}
		r.logger.Warn("action was interrupted by a restart; not run again", "incident", inc.ID, "action", inc.Action, "target", inc.Target)
	}
	r.mu.Lock()
	for _, inc := range rec.Pending {
		r.pending[inc.ID] = inc.UpdatedAt
	}
	r.mu.Unlock()
	for _, inc := range rec.Undecided {
		r.enqueue(inc.Target, inc.ID)
	}
	targets, err := r.journal.Targets()
	if err != nil {
		r.m.journalErrors.Inc()
		return err
	}
	for _, ts := range targets {
		if ts.CircuitOpen {
			r.m.circuit.WithLabelValues(ts.Name).Set(1)
		}
	}
	if err := r.recoverUpgrades(); err != nil {
		r.m.journalErrors.Inc()
		return err
	}
	r.logger.Info("journal recovered", "interrupted", len(rec.Interrupted), "requeued", len(rec.Undecided), "pending", len(rec.Pending))
	r.wg.Add(1)
	go r.housekeeping()
	return nil
}

// Close stops the runners; an action still running is cancelled and
// journaled as interrupted.
func (r *Remediator) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// Idle reports whether nothing is queued or running, for tests and the
// benchmark.
func (r *Remediator) Idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rn := range r.runners {
		if rn.busy || len(rn.queue) > 0 {
			return false
		}
	}
	return true
}

func (r *Remediator) pendingStats() (int, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var oldest time.Time
	for _, t := range r.pending {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	if oldest.IsZero() {
		return 0, 0
	}
	return len(r.pending), max(r.now().Sub(oldest), 0)
}

func (r *Remediator) queuedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rn := range r.runners {
		n += len(rn.queue)
	}
	return n
}

// housekeeping retries a journal that cannot commit, expires approvals,
// closes circuits after their quiet period and prunes the journal.
func (r *Remediator) housekeeping() {
	defer r.wg.Done()
	tick := time.NewTicker(r.tick)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
		now := r.now()
		r.probeJournal()
		r.expireApprovals(now)
		r.closeQuietCircuits(now)
		if now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			cfg := r.cfg.Load()
			n, err := r.journal.Prune(now.Add(-time.Duration(cfg.Journal.Retention)))
			if err != nil {
				r.m.journalErrors.Inc()
				r.logger.Error("journal prune", "err", err)
			} else if n > 0 {
				r.logger.Info("journal pruned", "incidents", n)
			}
		}
	}
}

func (r *Remediator) expireApprovals(now time.Time) {
	r.mu.Lock()
	ids := slices.Collect(maps.Keys(r.pending))
	r.mu.Unlock()
	for _, id := range ids {
		var expired bool
		err := r.journal.Update(func(tx journal.Tx) error {
			inc, err := tx.Incident(id)
			if err != nil {
				return err
			}
			if expired = inc.Expire(now); !expired {
				return nil
			}
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
			r.countExpired(inc)
			return nil
		})
		if err != nil {
			// Not committed: still pending; the next round tries again.
			r.journalError("expire approval", err)
			continue
		}
		if expired {
			r.dropPending(id)
		}
	}
}

// countExpired counts and logs an expiry. It runs inside the journal
// transaction, so that whoever reads the expiry from the journal also sees
// it counted (as the record stage does with actions).
func (r *Remediator) countExpired(inc *journal.Incident) {
	r.m.incidents.WithLabelValues(journal.DecisionExpired).Inc()
	r.logger.Info("approval expired", "incident", inc.ID, "action", inc.Action, "target", inc.Target, "expired_at", inc.ExpiresAt)
}

func (r *Remediator) closeQuietCircuits(now time.Time) {
	cfg := r.cfg.Load()
	for _, t := range cfg.Targets {
		// A read first: a write transaction costs an fsync even when it
		// changes nothing, and most rounds find every circuit closed.
		if ts, err := r.journal.Target(t.Name); err != nil || !ts.CircuitOpen {
			if err != nil {
				r.journalError("circuit quiet period", err)
			}
			continue
		}
		var closed bool
		err := r.journal.Update(func(tx journal.Tx) error {
			ts, err := tx.Target(t.Name)
			if err != nil || !ts.CircuitOpen {
				closed = false
				return err
			}
			if closed = gate.Refresh(ts, cfg.Limits, now); !closed {
				return nil
			}
			return tx.PutTarget(ts)
		})
		if err != nil {
			r.journalError("circuit quiet period", err)
			continue
		}
		if closed {
			r.m.circuit.WithLabelValues(t.Name).Set(0)
			r.logger.Info("circuit closed after its quiet period", "target", t.Name)
		}
	}
}

func (r *Remediator) dropPending(id string) {
	r.mu.Lock()
	delete(r.pending, id)
	r.mu.Unlock()
}

func (r *Remediator) journalError(what string, err error) {
	if errors.Is(err, journal.ErrNotFound) {
		return
	}
	r.m.journalErrors.Inc()
	r.logger.Error("journal", "op", what, "err", err)
}

// ResetCircuit closes a target's circuit by hand.
func (r *Remediator) ResetCircuit(name string) error {
	if r.cfg.Load().Target(name) == nil {
		return fmt.Errorf("%w: target %q", errUnknown, name)
	}
	err := r.journal.Update(func(tx journal.Tx) error {
		ts, err := tx.Target(name)
		if err != nil {
			return err
		}
		gate.Reset(ts)
		return tx.PutTarget(ts)
	})
	if err != nil {
		r.journalError("reset circuit", err)
		return err
	}
	r.m.circuit.WithLabelValues(name).Set(0)
	r.logger.Info("circuit reset by hand", "target", name)
	return nil
}

var errUnknown = errors.New("not found")
