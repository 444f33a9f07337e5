package upgrade

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/notify"
)

// A guarded upgrade takes targets to a version one batch at a time. A
// known-bad version is refused at once; then, before the first batch,
// every target's preflights run (preflight.go) and any refusal
// ends the upgrade refused with nothing touched. Per batch: each target's running version is journaled as its rollback point
// before anything runs; the update command runs; verification wants the
// new version healthy; Prometheus is watched for the observation window.
// Any failure rolls the batch back to its recorded versions, verifies them,
// ends the upgrade and escalates. While a batch runs, the gate refuses
// disruptive alert-driven actions on its targets (decision "upgrading").
// A restart mid-upgrade ends it as interrupted: no batch runs twice.

// Request is what an operator asks for.
type Request struct {
	To        string
	Targets   []string // empty: every configured target, in order
	BatchSize int      // 0: one target per batch
	DryRun    bool
}

// StateDryRun is the state of a plan returned by a dry run; it is never
// journaled.
const StateDryRun = "dry_run"

// Errors of Upgrade; the API answers 409 for ErrRunning, 503 for
// ErrNoPrometheus and 400 for ErrBadRequest.
var (
	ErrRunning      = errors.New("an upgrade is already running")
	ErrNoPrometheus = errors.New("no Prometheus to observe the upgrade: start the remediator with --prometheus.url")
	ErrBadRequest   = errors.New("bad upgrade request")
)

// Options are what a Runner needs from the remediator.
type Options struct {
	Journal *journal.Journal
	// Config is the live configuration.
	Config func() *config.Config
	Now    func() time.Time
	Logger *slog.Logger
	Procs  openclaw.ProcFS
	// Client is a target's HTTP client (its http_config).
	Client func(target string) *http.Client
	Notify *notify.Notifier
	// Busy reports whether an incident's action runs on any of targets.
	Busy func(targets []string) bool
	// PrometheusURL is where batches are observed; empty: only dry runs.
	PrometheusURL string
	// JournalError counts and logs a failed journal write.
	JournalError func(op string, err error)
	Registerer   prometheus.Registerer
}

// Runner runs guarded upgrades, one at a time, beside the incidents.
type Runner struct {
	journal      *journal.Journal
	config       func() *config.Config
	now          func() time.Time
	logger       *slog.Logger
	procs        openclaw.ProcFS
	client       func(target string) *http.Client
	notify       *notify.Notifier
	busy         func(targets []string) bool
	promURL      string
	journalError func(op string, err error)
	metrics      *metrics

	ctx context.Context
	wg  sync.WaitGroup

	mu     sync.Mutex
	closed bool
	// id is the upgrade running now, held the targets of its current
	// batch, which the incidents' gate keeps free.
	id   string
	held map[string]bool
}

// NewRunner builds a runner whose upgrades run until ctx ends.
func NewRunner(ctx context.Context, o Options) *Runner {
	r := &Runner{
		journal: o.Journal, config: o.Config, now: o.Now, logger: o.Logger, procs: o.Procs, client: o.Client,
		notify: o.Notify, busy: o.Busy, promURL: o.PrometheusURL, journalError: o.JournalError, ctx: ctx,
	}
	r.metrics = newMetrics(o.Registerer, r)
	return r
}

// Close waits for the running upgrade, which ends with the context given
// to NewRunner; none starts after.
func (r *Runner) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
}

// metrics are the series of guarded upgrades.
type metrics struct {
	upgrades *prometheus.CounterVec
	batches  *prometheus.CounterVec
	running  prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, r *Runner) *metrics {
	m := &metrics{
		upgrades: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_upgrades_total",
			Help: "Guarded upgrades that ended, by result: done, failed (a batch was rolled back and the upgrade stopped), interrupted (by a restart) or refused (by a preflight, before anything ran).",
		}, []string{"result"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_upgrade_batches_total",
			Help: "Batches of guarded upgrades that ended, by result: done, rolled_back or rollback_failed.",
		}, []string{"result"}),
		running: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "openclaw_remediator_upgrade_running",
			Help: "1 while a guarded upgrade runs.",
		}, func() float64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.id != "" {
				return 1
			}
			return 0
		}),
	}
	reg.MustRegister(m.upgrades, m.batches, m.running)
	for _, s := range []string{journal.UpgradeDone, journal.UpgradeFailed, journal.UpgradeInterrupted, journal.UpgradeRefused} {
		m.upgrades.WithLabelValues(s)
	}
	for _, s := range []string{journal.BatchDone, journal.BatchRolledBack, journal.BatchRollbackFailed} {
		m.batches.WithLabelValues(s)
	}
	return m
}

// Holds says why a disruptive action may not run on target now, or ""
// when no upgrade batch holds it.
func (r *Runner) Holds(target string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held[target] {
		return fmt.Sprintf("upgrade %s holds the target", r.id)
	}
	return ""
}

// Start plans an upgrade, checks everything it can before anything runs,
// and starts it in the background (or only returns the plan, for a dry
// run). The version is checked against every target's pattern first.
func (r *Runner) Start(ctx context.Context, req Request) (*journal.Upgrade, error) {
	cfg := r.config()
	u, err := r.plan(cfg, req)
	if err != nil {
		return nil, err
	}
	if k, bad := cfg.KnownBadRelease(req.To); bad {
		// Journaled, as every refusal: the operator asked, and was told no.
		u.State, u.Reason, u.EndedAt = journal.UpgradeRefused, "known-bad release: "+k.String(), &u.StartedAt
		if req.DryRun {
			u.ID = ""
			return u, nil
		}
		r.metrics.upgrades.WithLabelValues(u.State).Inc() // before the end is visible, as finishUpgrade
		if err := r.save(u); err != nil {
			return nil, err
		}
		r.logger.Warn("upgrade refused", "upgrade", u.ID, "to", u.To, "reason", u.Reason)
		return u, nil
	}
	if req.DryRun {
		u.ID, u.State = "", StateDryRun // never journaled
		for i := range u.Batches {
			for j := range u.Batches[i].Steps {
				s := &u.Batches[i].Steps[j]
				v, err := r.runningVersion(ctx, cfg.Target(s.Target))
				if err != nil {
					s.Error = "running version not discoverable: " + err.Error()
					continue
				}
				s.From, s.Skipped = v, v == u.To
			}
		}
		return u, nil
	}
	if r.promURL == "" {
		return nil, ErrNoPrometheus
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errors.New("remediator is stopping")
	}
	if r.id != "" {
		id := r.id
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrRunning, id)
	}
	r.id = u.ID
	r.mu.Unlock()
	if err := r.journal.PutUpgrade(u); err != nil {
		r.end()
		r.journalError("upgrade", err)
		return nil, err
	}
	r.logger.Info("upgrade started", "upgrade", u.ID, "to", u.To, "batches", len(u.Batches))
	// The caller gets a copy: the upgrade's goroutine owns u from here.
	out := *u
	out.Batches = slices.Clone(u.Batches)
	for i := range out.Batches {
		out.Batches[i].Steps = slices.Clone(u.Batches[i].Steps)
	}
	r.wg.Add(1)
	go r.run(u)
	return &out, nil
}

// planUpgrade checks the request and splits its targets into batches.
func (r *Runner) plan(cfg *config.Config, req Request) (*journal.Upgrade, error) {
	names := req.Targets
	if len(names) == 0 {
		names = cfg.TargetNames()
	}
	if req.BatchSize < 0 {
		return nil, fmt.Errorf("%w: batch size %d", ErrBadRequest, req.BatchSize)
	}
	seen := map[string]bool{}
	for _, n := range names {
		t := cfg.Target(n)
		if t == nil {
			return nil, fmt.Errorf("%w: unknown target %q", ErrBadRequest, n)
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: target %q named twice", ErrBadRequest, n)
		}
		seen[n] = true
		if err := actions.CheckVersion(req.To, t.Rollback.VersionRegexp()); err != nil {
			return nil, fmt.Errorf("%w: target %s: %w", ErrBadRequest, n, err)
		}
	}
	now := r.now()
	var id [4]byte
	_, _ = rand.Read(id[:])
	u := &journal.Upgrade{
		// Ids sort by start, so the journal lists the latest first.
		ID: now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(id[:]),
		To: req.To, BatchSize: max(req.BatchSize, 1), State: journal.UpgradeRunning, StartedAt: now, UpdatedAt: now,
	}
	for _, batch := range Batches(names, u.BatchSize) {
		b := journal.UpgradeBatch{State: journal.BatchPending}
		for _, n := range batch {
			t := cfg.Target(n)
			argv, err := Argv(t.Update.Command, req.To, t.Rollback.VersionRegexp())
			if err != nil {
				return nil, fmt.Errorf("%w: target %s: %w", ErrBadRequest, n, err)
			}
			b.Steps = append(b.Steps, journal.UpgradeStep{Target: n, Argv: argv})
		}
		u.Batches = append(u.Batches, b)
	}
	return u, nil
}

func (r *Runner) end() {
	r.mu.Lock()
	r.id, r.held = "", nil
	r.mu.Unlock()
}

// saveUpgrade journals the upgrade as it stands.
func (r *Runner) save(u *journal.Upgrade) error {
	u.UpdatedAt = r.now()
	if err := r.journal.PutUpgrade(u); err != nil {
		r.journalError("upgrade", err)
		return err
	}
	return nil
}

// List is the journaled upgrades, the latest first.
func (r *Runner) List() ([]*journal.Upgrade, error) {
	ups, err := r.journal.Upgrades()
	if err != nil {
		r.journalError("upgrades", err)
	}
	return ups, err
}

// Get reads one upgrade; journal.ErrUpgradeNotFound when there is none.
func (r *Runner) Get(id string) (*journal.Upgrade, error) { return r.journal.Upgrade(id) }
