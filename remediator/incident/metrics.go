package incident

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Metrics are the series of incidents and their actions. The names are a
// contract with the mixin's alerts and dashboards (docs/metrics.md).
type Metrics struct {
	alerts        *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	actions       *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	circuit       *prometheus.GaugeVec
	running       prometheus.Gauge
	journalErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, incs *Incidents) *Metrics {
	m := &Metrics{
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openclaw_remediator_alerts_received_total",
			Help: "Alerts received in webhooks, by alert status.",
		}, []string{"status"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
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
	}
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openclaw_remediator_pending_approvals",
		Help: "Incidents waiting for approval.",
	}, func() float64 { n, _ := incs.pendingStats(); return float64(n) })
	pendingOldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openclaw_remediator_pending_approval_oldest_age_seconds",
		Help: "Age of the oldest incident waiting for approval; 0 when none waits.",
	}, func() float64 { _, age := incs.pendingStats(); return age.Seconds() })
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openclaw_remediator_queued_incidents",
		Help: "Incidents recorded and waiting for their target's runner.",
	}, func() float64 { n, _ := incs.runners.counts(); return float64(n) })
	quiet := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openclaw_remediator_quiet_waits",
		Help: "Incidents waiting for a quiet moment (no active agent turns) on their gateway.",
	}, func() float64 { return float64(incs.waiting.len()) })
	reg.MustRegister(m.alerts, m.decisions, m.actions, m.duration, m.circuit, m.running, m.journalErrors,
		pending, pendingOldest, queued, quiet)
	for _, d := range journal.Decisions {
		m.decisions.WithLabelValues(d)
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
func (m *Metrics) initTarget(name string) {
	for _, a := range actions.Names() {
		for _, res := range journal.Results {
			m.actions.WithLabelValues(a, name, res)
		}
	}
	m.circuit.WithLabelValues(name)
}
