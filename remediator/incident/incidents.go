package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/gate"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/match"
)

// Options are what the incidents need from the remediator that runs them.
type Options struct {
	Journal *journal.Journal
	// Config is the live configuration.
	Config func() *config.Config
	Now    func() time.Time
	Logger *slog.Logger
	Procs  openclaw.ProcFS
	// Client is a target's HTTP client (its http_config).
	Client func(target string) *http.Client
	// Workers bounds the attempts that run at once.
	Workers int
	// Holds says why a guarded upgrade keeps a target free of disruptive
	// actions, "" when none does.
	Holds func(target string) string
	// Escalate tells the operator that a target's circuit opened.
	Escalate   func(cfg *config.Config, inc *journal.Incident, ts *journal.Target)
	Registerer prometheus.Registerer
}

// Incidents admits the alerts of webhooks as incidents, takes each through
// the pipeline on its target's runner, and settles those that wait for a
// person. Their state lives in the journal; this holds only what runs.
type Incidents struct {
	journal *journal.Journal
	config  func() *config.Config
	now     func() time.Time
	logger  *slog.Logger
	metrics *Metrics
	runners *runners
	// waiting are the incidents waiting for a quiet moment.
	waiting *waitingSet

	lastPrune time.Time
}

// New builds the incidents and their pipeline; they run until ctx ends.
func New(ctx context.Context, o Options) *Incidents {
	incs := &Incidents{
		journal: o.Journal, config: o.Config, now: o.Now, logger: o.Logger, waiting: &waitingSet{},
	}
	incs.metrics = newMetrics(o.Registerer, incs)
	stages := incs.pipeline(o)
	incs.runners = &runners{
		ctx: ctx, byName: map[string]*runner{},
		process: func(id string) { stages.Exec(ctx, &Attempt{ID: id, Config: incs.config()}) },
		exists:  func(target string) bool { return incs.config().Target(target) != nil },
	}
	return incs
}

// pipeline is the way of one incident, in the order of the package doc:
// the one place that knows the stages and what each is built with.
func (incs *Incidents) pipeline(o Options) Stage {
	return MultiStage{
		quietStage{journal: o.Journal, now: o.Now, turns: activeTurns, again: incs.again, waiting: incs.waiting,
			decisions: incs.metrics.decisions, logger: o.Logger, journalError: incs.JournalError},
		gateStage{journal: o.Journal, now: o.Now, holds: o.Holds,
			decisions: incs.metrics.decisions, logger: o.Logger, journalError: incs.JournalError},
		retryStage{journal: o.Journal, now: o.Now, config: o.Config, logger: o.Logger, journalError: incs.JournalError,
			stage: MultiStage{
				workerStage{slots: make(chan struct{}, o.Workers), running: incs.metrics.running,
					stage: claimStage{procs: o.Procs, logger: o.Logger,
						stage: MultiStage{
							actStage{journal: o.Journal, now: o.Now, procs: o.Procs, client: o.Client},
							verifyStage{},
						}}},
				recordStage{journal: o.Journal, now: o.Now, metrics: incs.metrics, logger: o.Logger,
					escalate: o.Escalate, journalError: incs.JournalError},
			}},
	}
}

// activeTurns asks a target's gateway for its active agent turns, which
// needs the target's token.
func activeTurns(ctx context.Context, t *config.Target) (int, error) {
	if t.Token() == "" {
		return 0, errors.New("the target has no token_file")
	}
	return openclaw.ActiveTurns(ctx, t.RPCAddr(), t.Token())
}

// again hands an incident back to its target's runner after d; a restart
// meanwhile queues it again from the journal.
func (incs *Incidents) again(target, id string, d time.Duration) {
	time.AfterFunc(d, func() { incs.runners.enqueue(target, id) })
}

// Configured makes every configured target's series exist and ends the
// runners of targets no longer configured.
func (incs *Incidents) Configured(cfg *config.Config) {
	for _, t := range cfg.Targets {
		incs.metrics.initTarget(t.Name)
	}
	incs.runners.reconfigured()
}

// JournalError counts and logs a failed journal read or write; a missing
// incident is no failure of the journal.
func (incs *Incidents) JournalError(op string, err error) {
	if errors.Is(err, journal.ErrNotFound) {
		return
	}
	incs.metrics.journalErrors.Inc()
	incs.logger.Error("journal", "op", op, "err", err)
}

// Recover takes up the journal after a restart: running actions of the
// previous process are marked interrupted, undecided incidents are queued
// again, pending approvals keep waiting.
func (incs *Incidents) Recover() error {
	rec, err := incs.journal.Recover(incs.now())
	if err != nil {
		incs.metrics.journalErrors.Inc()
		return err
	}
	for _, inc := range rec.Interrupted {
		if a := inc.Actions; len(a) > 0 {
			incs.metrics.actions.WithLabelValues(a[len(a)-1].Action, a[len(a)-1].Target, journal.ResultInterrupted).Inc()
		}
		incs.logger.Warn("action was interrupted by a restart; not run again", "incident", inc.ID, "action", inc.Action, "target", inc.Target)
	}
	for _, inc := range rec.Undecided {
		incs.runners.enqueue(inc.Target, inc.ID)
	}
	targets, err := incs.journal.Targets()
	if err != nil {
		incs.metrics.journalErrors.Inc()
		return err
	}
	for _, ts := range targets {
		if ts.CircuitOpen {
			incs.metrics.circuit.WithLabelValues(ts.Name).Set(1)
		}
	}
	incs.logger.Info("journal recovered", "interrupted", len(rec.Interrupted), "requeued", len(rec.Undecided), "pending", len(rec.Pending))
	return nil
}

// Ack is what a webhook's delivery became.
type Ack struct {
	Incidents  []string `json:"incidents"`
	New        int      `json:"new"`
	Duplicates int      `json:"duplicates"`
	NoMatch    int      `json:"noMatch"`
	Resolved   int      `json:"resolved"`
}

// Admit journals a delivery's alerts as incidents in one durable batch and
// hands the new ones to their runners. The key is fingerprint plus
// startsAt, and the policy decides action and target before anything is
// written, so a no_match is journaled with its reason.
func (incs *Incidents) Admit(msg *webhook.Message) (Ack, error) {
	now := incs.now()
	cfg := incs.config()
	in := make([]*journal.Incident, 0, len(msg.Alerts))
	for _, a := range msg.Alerts {
		inc := &journal.Incident{
			ID:          journal.ID(a.Fingerprint, a.StartsAt),
			Fingerprint: a.Fingerprint,
			StartsAt:    a.StartsAt,
			AlertName:   a.Labels["alertname"],
			Status:      a.Status,
			Labels:      maps.Clone(map[string]string(a.Labels)),
			Annotations: maps.Clone(map[string]string(a.Annotations)),
			Receiver:    msg.Receiver,
			GroupKey:    msg.GroupKey,
			State:       journal.StateReceived,
		}
		if a.Status == "firing" {
			res := match.Match(cfg, inc.Labels)
			inc.Policy = res.Policy
			if !res.Matched {
				_ = inc.Settle(journal.DecisionNoMatch, res.Reason, now) // a received incident may always settle
			} else {
				inc.Action, inc.Target, inc.DryRun, inc.Approval = res.Action, res.Target, res.DryRun, res.Approval
				if q := res.Quiet; q != nil {
					// The deadline from now, journaled: a restart waits
					// on to the same one.
					inc.Quiet = &journal.Quiet{Until: now.Add(time.Duration(q.Within)), Then: q.Then}
				}
			}
		}
		in = append(in, inc)
	}
	adm, err := incs.journal.Admit(in, now)
	if err != nil {
		incs.JournalError("admit", err)
		return Ack{}, err
	}
	var ack Ack
	for i, a := range adm {
		inc, status := a.Incident, in[i].Status // Admit answers in order
		incs.metrics.alerts.WithLabelValues(status).Inc()
		switch {
		case !a.Known:
			ack.Resolved++
		case a.New && inc.Decision == journal.DecisionNoMatch:
			ack.NoMatch++
			incs.metrics.decisions.WithLabelValues(journal.DecisionNoMatch).Inc()
			incs.logger.Debug("no policy applies", "incident", inc.ID, "alertname", match.Quote(inc.AlertName), "reason", inc.Reason)
		case a.New:
			ack.New++
			incs.runners.enqueue(inc.Target, inc.ID)
		case status == "resolved":
			ack.Resolved++
		default:
			ack.Duplicates++
			incs.metrics.decisions.WithLabelValues(journal.DecisionDuplicate).Inc()
		}
		ack.Incidents = append(ack.Incidents, inc.ID)
	}
	return ack, nil
}

// List lists journaled incidents, most recently received first.
func (incs *Incidents) List(f journal.Filter) ([]*journal.Incident, error) {
	out, err := incs.journal.List(f)
	if err != nil {
		incs.JournalError("list", err)
	}
	return out, err
}

// Page is one page of a listing, for the API's cursor.
func (incs *Incidents) Page(f journal.Filter) (journal.Page, error) {
	page, err := incs.journal.ListPage(f)
	if err != nil && !errors.Is(err, journal.ErrBadCursor) {
		incs.JournalError("list", err)
	}
	return page, err
}

// Get reads one incident; journal.ErrNotFound when there is none.
func (incs *Incidents) Get(id string) (*journal.Incident, error) {
	inc, err := incs.journal.Incident(id)
	if err != nil {
		incs.JournalError("get", err)
	}
	return inc, err
}

// Targets is the gate's state of every configured target, in the
// configuration's order.
func (incs *Incidents) Targets() ([]*journal.Target, error) {
	out := []*journal.Target{}
	for _, name := range incs.config().TargetNames() {
		ts, err := incs.journal.Target(name)
		if err != nil {
			incs.JournalError("targets", err)
			return nil, err
		}
		out = append(out, ts)
	}
	return out, nil
}

// ErrUnknownTarget answers 404: no target of that name is configured.
var ErrUnknownTarget = errors.New("not found")

// ResetCircuit closes a target's circuit by hand.
func (incs *Incidents) ResetCircuit(name string) error {
	if incs.config().Target(name) == nil {
		return fmt.Errorf("%w: target %q", ErrUnknownTarget, name)
	}
	err := incs.journal.Update(func(tx journal.Tx) error {
		ts, err := tx.Target(name)
		if err != nil {
			return err
		}
		gate.Reset(ts)
		return tx.PutTarget(ts)
	})
	if err != nil {
		incs.JournalError("reset circuit", err)
		return err
	}
	incs.metrics.circuit.WithLabelValues(name).Set(0)
	incs.logger.Info("circuit reset by hand", "target", name)
	return nil
}

// ErrNotPending and ErrExpired answer 409: the incident exists but cannot be
// approved or rejected any more.
var (
	ErrNotPending = errors.New("incident is not waiting for approval")
	ErrExpired    = errors.New("approval expired")
)

// Approve lets a pending incident's action run.
func (incs *Incidents) Approve(id string) (*journal.Incident, error) {
	return incs.answer(id, true, "")
}

// Reject drops a pending incident; a reason, if any, is journaled with it.
func (incs *Incidents) Reject(id, reason string) (*journal.Incident, error) {
	return incs.answer(id, false, reason)
}

// maxReason bounds a reason typed by a person.
const maxReason = 500

// rejectReason is the incident's reason for a rejection: the person's words,
// bounded and on one line, since they are shown and logged.
func rejectReason(reason string) string {
	reason = strings.Join(strings.FieldsFunc(reason, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }), " ")
	if reason == "" {
		return "rejected"
	}
	if r := []rune(reason); len(r) > maxReason {
		reason = string(r[:maxReason]) + "…"
	}
	return "rejected: " + reason
}

// answer journals a person's approval or rejection of a pending incident;
// an approved one goes back to its runner, past the limits.
func (incs *Incidents) answer(id string, approve bool, reason string) (*journal.Incident, error) {
	now := incs.now()
	var inc *journal.Incident
	expired := false
	err := incs.journal.Update(func(tx journal.Tx) error {
		var err error
		expired = false
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		if inc.State != journal.StatePending {
			return ErrNotPending
		}
		// Housekeeping expires approvals once a tick; an answer that comes
		// after the deadline but before the tick is too late all the same.
		if inc.Expire(now) {
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
			expired = true
			incs.countExpired(inc)
			return nil
		}
		if approve {
			if err := inc.Approve(now); err != nil {
				return err
			}
			return tx.PutIncident(inc)
		}
		if err := inc.Reject(rejectReason(reason), now); err != nil {
			return err
		}
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		incs.metrics.decisions.WithLabelValues(journal.DecisionRejected).Inc() // before the commit, as in the gate stage
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrNotPending) {
			incs.JournalError("answer", err)
		}
		return inc, err
	}
	if expired {
		return inc, ErrExpired
	}
	if approve {
		incs.logger.Info("incident approved", "incident", id, "action", inc.Action, "target", inc.Target)
		incs.runners.enqueue(inc.Target, id)
	} else {
		incs.logger.Info("incident rejected", "incident", id, "reason", inc.Reason)
	}
	return inc, nil
}

// NotPendingReason says why an incident cannot be approved or rejected, in
// words an operator at the CLI or the console can act on.
func NotPendingReason(inc *journal.Incident, err error) string {
	msg := fmt.Sprintf("%s: incident %s is %s", err, inc.ID, inc.State)
	if inc.Decision != "" {
		msg += ", decision " + inc.Decision
	}
	if inc.Reason != "" {
		msg += " (" + inc.Reason + ")"
	}
	return msg
}

// Housekeep retries a journal that cannot commit, expires approvals,
// closes circuits after their quiet period and, hourly, prunes the
// journal.
func (incs *Incidents) Housekeep(now time.Time) {
	if incs.journal.CommitError() != nil && incs.journal.ProbeCommit() == nil {
		// Ready clears when the disk has room again even if no webhook
		// comes to try (a load balancer sends them elsewhere meanwhile).
		incs.logger.Info("journal commits again: ready")
	}
	incs.expireApprovals(now)
	incs.closeQuietCircuits(now)
	if now.Sub(incs.lastPrune) > time.Hour {
		incs.lastPrune = now
		n, err := incs.journal.Prune(now.Add(-time.Duration(incs.config().Journal.Retention)))
		if err != nil {
			incs.JournalError("prune", err)
		} else if n > 0 {
			incs.logger.Info("journal pruned", "incidents", n)
		}
	}
}

func (incs *Incidents) expireApprovals(now time.Time) {
	pending, err := incs.journal.Pending()
	if err != nil {
		incs.JournalError("expire approvals", err)
		return
	}
	for _, p := range pending {
		err := incs.journal.Update(func(tx journal.Tx) error {
			inc, err := tx.Incident(p.ID)
			if err != nil {
				return err
			}
			if !inc.Expire(now) {
				return nil
			}
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
			incs.countExpired(inc)
			return nil
		})
		if err != nil {
			// Not committed: still pending; the next round tries again.
			incs.JournalError("expire approval", err)
		}
	}
}

// countExpired counts and logs an expiry. It runs inside the journal
// transaction, so that whoever reads the expiry from the journal also sees
// it counted (as the record stage does with actions).
func (incs *Incidents) countExpired(inc *journal.Incident) {
	incs.metrics.decisions.WithLabelValues(journal.DecisionExpired).Inc()
	incs.logger.Info("approval expired", "incident", inc.ID, "action", inc.Action, "target", inc.Target, "expired_at", inc.ExpiresAt)
}

func (incs *Incidents) closeQuietCircuits(now time.Time) {
	cfg := incs.config()
	for _, t := range cfg.Targets {
		// A read first: a write transaction costs an fsync even when it
		// changes nothing, and most rounds find every circuit closed.
		if ts, err := incs.journal.Target(t.Name); err != nil || !ts.CircuitOpen {
			if err != nil {
				incs.JournalError("circuit quiet period", err)
			}
			continue
		}
		var closed bool
		err := incs.journal.Update(func(tx journal.Tx) error {
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
			incs.JournalError("circuit quiet period", err)
			continue
		}
		if closed {
			incs.metrics.circuit.WithLabelValues(t.Name).Set(0)
			incs.logger.Info("circuit closed after its quiet period", "target", t.Name)
		}
	}
}

// pendingStats is how many incidents wait for approval, and how long the
// oldest has.
func (incs *Incidents) pendingStats() (int, time.Duration) {
	pending, err := incs.journal.Pending()
	if err != nil {
		incs.JournalError("pending", err)
		return 0, 0
	}
	var oldest time.Time
	for _, p := range pending {
		if oldest.IsZero() || p.Since.Before(oldest) {
			oldest = p.Since
		}
	}
	if oldest.IsZero() {
		return 0, 0
	}
	return len(pending), max(incs.now().Sub(oldest), 0)
}

// Busy reports whether an incident runs on any of targets.
func (incs *Incidents) Busy(targets []string) bool { return incs.runners.busy(targets) }

// Idle reports whether nothing is queued or running.
func (incs *Incidents) Idle() bool {
	queued, working := incs.runners.counts()
	return queued == 0 && working == 0
}

// Close stops the runners; the context given to New must have ended, so
// that an action still running is cancelled and journaled as interrupted.
func (incs *Incidents) Close() { incs.runners.close() }
