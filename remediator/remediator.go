// Package remediator turns Alertmanager webhooks into safe actions on
// OpenClaw gateways. It only composes: package api decodes a webhook and
// hands it to package incident, which journals its alerts as incidents and
// takes each through its pipeline of stages (quiet, gate, retry, workers, claim,
// act, verify, record) to the target's driver and back to the journal;
// package upgrade runs guarded upgrades beside them, one at a time, and
// the incidents' gate keeps the targets of its current batch free of
// disruptive actions. A webhook goes one way: api → incident → actions →
// driver, and journal.
package remediator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"

	"github.com/clawwatch/clawwatch/internal/buildinfo"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/reload"
	"github.com/clawwatch/clawwatch/remediator/api"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/incident"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/notify"
	"github.com/clawwatch/clawwatch/remediator/upgrade"
)

// Remediator is the running whole.
type Remediator struct {
	cfg       atomic.Pointer[config.Config]
	journal   *journal.Journal
	logger    *slog.Logger
	procs     openclaw.ProcFS
	now       func() time.Time
	tick      time.Duration
	clients   atomic.Pointer[map[string]*http.Client]
	reload    *reload.Gauges
	notify    *notify.Notifier
	incidents *incident.Incidents
	upgrades  *upgrade.Runner
	api       *api.API

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
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
	r := &Remediator{journal: j, logger: logger, procs: o.Procs, now: o.Now, tick: o.Housekeeping, reload: reload.NewGauges("openclaw_remediator")}
	// A target's HTTP client (its http_config), as the last Apply built it.
	client := func(target string) *http.Client {
		if c := (*r.clients.Load())[target]; c != nil {
			return c
		}
		return http.DefaultClient
	}
	r.cfg.Store(cfg)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.notify = notify.New(r.ctx, logger)
	r.incidents = incident.New(r.ctx, incident.Options{
		Journal: j, Config: r.cfg.Load, Now: o.Now, Logger: logger, Procs: o.Procs, Client: client,
		Workers:  cfg.Workers,
		Holds:    func(target string) string { return r.upgrades.Holds(target) },
		Escalate: escalation(r.notify, o.IncidentURL), Registerer: reg,
	})
	r.upgrades = upgrade.NewRunner(r.ctx, upgrade.Options{
		Journal: j, Config: r.cfg.Load, Now: o.Now, Logger: logger, Procs: o.Procs, Client: client,
		Notify: r.notify, Busy: r.incidents.Busy, PrometheusURL: o.PrometheusURL,
		JournalError: r.incidents.JournalError, Registerer: reg,
	})
	r.api = api.New(r.incidents, r.upgrades, r.cfg.Load, o.Now, logger, reg)
	reg.MustRegister(r.reload, buildinfo.Collector("openclaw_remediator"))
	if err := r.apply(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// escalation tells the operator through the notify webhook that a circuit
// opened, with where to read what was tried.
func escalation(n *notify.Notifier, pageURL func(id string) string) func(*config.Config, *journal.Incident, *journal.Target) {
	return func(_ *config.Config, inc *journal.Incident, ts *journal.Target) {
		msg := map[string]any{
			"event": "circuit_open", "target": inc.Target, "action": inc.Action, "incident": inc.ID,
			"alertname": inc.AlertName, "reason": ts.Reason, "openedAt": ts.OpenedAt,
		}
		if pageURL != nil {
			msg["incidentURL"] = pageURL(inc.ID)
		}
		n.Send(msg)
	}
}

// apply builds the per-target clients and the notifier, checks that every
// target's driver can be built, and tells the incidents.
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
	if err := r.notify.Apply(cfg); err != nil {
		return err
	}
	r.clients.Store(&clients)
	r.cfg.Store(cfg)
	r.incidents.Configured(cfg)
	return nil
}

// Config returns the live configuration.
func (r *Remediator) Config() *config.Config { return r.cfg.Load() }

// Apply swaps in a reloaded configuration. The worker count and the
// journal are fixed at start; a change of them is logged and waits for a
// restart.
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

// ReloadResult records the outcome of a configuration reload in the
// metrics.
func (r *Remediator) ReloadResult(err error) { r.reload.Record(err) }

// Start recovers the journal after a restart and starts the background
// work.
func (r *Remediator) Start() error {
	if err := r.incidents.Recover(); err != nil {
		return err
	}
	if err := r.upgrades.Recover(); err != nil {
		r.incidents.JournalError("recover upgrades", err)
		return err
	}
	r.wg.Add(1)
	go r.housekeeping()
	return nil
}

func (r *Remediator) housekeeping() {
	defer r.wg.Done()
	tick := time.NewTicker(r.tick)
	defer tick.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
		r.incidents.Housekeep(r.now())
	}
}

// Close stops the work; an action still running is cancelled and
// journaled as interrupted.
func (r *Remediator) Close() {
	r.cancel()
	r.incidents.Close()
	r.upgrades.Close()
	r.notify.Wait()
	r.wg.Wait()
}

// Handler serves the API behind authn (package api).
func (r *Remediator) Handler(authn func(http.Handler) http.Handler) http.Handler {
	return r.api.Handler(authn)
}

// Incidents are the incidents, for the console.
func (r *Remediator) Incidents() *incident.Incidents { return r.incidents }

// Ready is nil while the remediator can take webhooks, otherwise why not:
// its journal cannot commit (a full disk), so every webhook would get 503.
// /-/ready answers 503 with it, so that an HA peer or a load balancer
// sends the webhooks elsewhere meanwhile.
func (r *Remediator) Ready() error { return r.journal.CommitError() }
