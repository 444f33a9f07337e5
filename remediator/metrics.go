package remediator

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/internal/buildinfo"
	"github.com/clawwatch/clawwatch/internal/reload"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// metrics are the remediator's own series. The names are a contract with
// the mixin's alerts and dashboards (docs/metrics.md).
type metrics struct {
	requests      *prometheus.CounterVec
	alerts        *prometheus.CounterVec
	incidents     *prometheus.CounterVec
	actions       *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	circuit       *prometheus.GaugeVec
	running       prometheus.Gauge
	journalErrors prometheus.Counter
	reload        *reload.Gauges
	pending       prometheus.GaugeFunc
	pendingOldest prometheus.GaugeFunc
	queued        prometheus.GaugeFunc
	ackDuration   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, r *Remediator) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_webhook_requests_total",
			Help: "Webhook requests by HTTP status code.",
		}, []string{"code"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_alerts_received_total",
			Help: "Alerts received in webhooks, by alert status.",
		}, []string{"status"}),
		incidents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_incidents_total",
			Help: "Decisions taken for incidents (duplicate counts every repeated delivery).",
		}, []string{"decision"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_actions_total",
			Help: "Action attempts by action, target and result.",
		}, []string{"action", "target", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "openclaw_remediator_action_duration_seconds",
			Help:    "Duration of action attempts, verification included.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300},
		}, []string{"action"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "openclaw_remediator_circuit_open",
			Help: "1 while the target's circuit breaker is open and no action runs on it.",
		}, []string{"target"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "openclaw_remediator_actions_running",
			Help: "Actions running now.",
		}),
		journalErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openclaw_remediator_journal_errors_total",
			Help: "Failed reads and writes of the journal.",
		}),
		reload: reload.NewGauges("openclaw_remediator"),
		ackDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "openclaw_remediator_webhook_ack_duration_seconds",
			Help:    "Time from a webhook's arrival to its answer, the durable journal write included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	m.pending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openclaw_remediator_pending_approvals",
		Help: "Incidents waiting for approval.",
	}, func() float64 { n, _ := r.pendingStats(); return float64(n) })
	m.pendingOldest = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openclaw_remediator_pending_approval_oldest_age_seconds",
		Help: "Age of the oldest incident waiting for approval; 0 when none waits.",
	}, func() float64 { _, age := r.pendingStats(); return age.Seconds() })
	m.queued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openclaw_remediator_queued_incidents",
		Help: "Incidents recorded and waiting for their target's runner.",
	}, func() float64 { return float64(r.queuedCount()) })
	reg.MustRegister(m.requests, m.alerts, m.incidents, m.actions, m.duration, m.circuit, m.running,
		m.journalErrors, m.reload, m.pending, m.pendingOldest, m.queued, m.ackDuration,
		buildinfo.Collector("openclaw_remediator"))
	for _, d := range journal.Decisions {
		m.incidents.WithLabelValues(d)
	}
	for _, code := range []string{"200", "400", "401", "413", "503"} {
		m.requests.WithLabelValues(code)
	}
	for _, s := range []string{"firing", "resolved"} {
		m.alerts.WithLabelValues(s)
	}
	for _, a := range actions.Names() {
		m.duration.WithLabelValues(a)
	}
	return m
}

// initTarget makes a target's series exist from the start.
func (m *metrics) initTarget(name string) {
	for _, a := range actions.Names() {
		for _, res := range journal.Results {
			m.actions.WithLabelValues(a, name, res)
		}
	}
	m.circuit.WithLabelValues(name)
}
