local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

// The exporter and the remediator watch the gateway; these alerts watch them.
{
  prometheusAlerts+:: {
    local c = format.config($._config),
    groups+: [
      {
        name: 'openclaw-exporter',
        rules: [
          alert.new(
            c,
            'OpenClawExporterDown',
            'critical',
            'none',
            |||
              max_over_time(up{%(exporterSelector)s}[%(gaugeWindow)s]) == 0
            ||| % c,
            'The OpenClaw exporter cannot be scraped.',
            'Prometheus has failed to scrape the OpenClaw exporter {{ $labels.instance }} for at least %(gaugeWindow)s; no other OpenClaw alert can fire for its gateways.' % c,
            c.exporterDownFor,
          ),
          // up is only there while service discovery lists the target: an
          // exporter that vanishes from it is absent, not down.
          alert.new(
            c,
            'OpenClawExporterAbsent',
            'critical',
            'none',
            |||
              absent_over_time(up{%(exporterSelector)s}[%(gaugeWindow)s])
            ||| % c,
            'No OpenClaw exporter is a scrape target.',
            'For at least %(gaugeWindow)s no scrape target of Prometheus has matched {%(exporterSelector)s} (job "{{ $labels.job }}"): the exporter is gone from service discovery or from the scrape configuration, and no OpenClaw alert can fire.' % c,
            c.absentFor,
          ),
          alert.new(
            c,
            'OpenClawExporterCollectorFailing',
            'warning',
            'none',
            |||
              max_over_time(openclaw_exporter_collector_success{%(exporterSelector)s}[%(gaugeWindow)s]) == 0
            ||| % c,
            'An OpenClaw exporter collector is failing.',
            'Collector {{ $labels.collector }} of the exporter on {{ $labels.instance }} has failed every scrape for at least %(gaugeWindow)s (gateway "{{ $labels.gateway }}"); its series are missing.' % c,
            c.collectorFailingFor,
          ),
        ],
      },
      {
        name: 'openclaw-remediator',
        rules: [
          alert.new(
            c,
            'OpenClawRemediatorDown',
            'warning',
            'none',
            |||
              max_over_time(up{%(remediatorSelector)s}[%(gaugeWindow)s]) == 0
            ||| % c,
            'The OpenClaw remediator cannot be scraped.',
            'Prometheus has failed to scrape the OpenClaw remediator {{ $labels.instance }} for at least %(gaugeWindow)s; gateways are not healed automatically.' % c,
            c.remediatorDownFor,
          ),
          alert.new(
            c,
            'OpenClawRemediatorAbsent',
            'warning',
            'none',
            |||
              absent_over_time(up{%(remediatorSelector)s}[%(gaugeWindow)s])
            ||| % c,
            'No OpenClaw remediator is a scrape target.',
            'For at least %(gaugeWindow)s no scrape target of Prometheus has matched {%(remediatorSelector)s} (job "{{ $labels.job }}"): the remediator is gone from service discovery or from the scrape configuration, and nothing watches it.' % c,
            c.absentFor,
          ),
          alert.new(
            c,
            'OpenClawRemediatorActionsFailing',
            'warning',
            'none',
            |||
              sum by (%(clusterLabel)s, job, instance, action, target) (
                increase(openclaw_remediator_actions_total{%(remediatorSelector)s, result=~"failure|verify_failed"}[%(remediatorFailureWindow)s])
              ) > 0
            ||| % c,
            'OpenClaw remediator actions fail.',
            'Action {{ $labels.action }} on target {{ $labels.target }} failed or did not verify {{ $value | humanize }} times in %(remediatorFailureWindow)s; the journal of {{ $labels.instance }} has the details.' % c,
          ),
          alert.new(
            c,
            'OpenClawRemediatorCircuitOpen',
            'critical',
            'none',
            |||
              min_over_time(openclaw_remediator_circuit_open{%(remediatorSelector)s}[%(gaugeWindow)s]) == 1
            ||| % c,
            'OpenClaw remediator gave up on a target.',
            'The remediator on {{ $labels.instance }} opened the circuit for target {{ $labels.target }}: attempts are exhausted or verification failed, and it takes no more actions there until a human looks.',
            c.circuitOpenFor,
          ),
          alert.new(
            c,
            'OpenClawRemediatorApprovalsWaiting',
            'warning',
            'none',
            |||
              min_over_time(openclaw_remediator_pending_approval_oldest_age_seconds{%(remediatorSelector)s}[%(gaugeWindow)s]) > %(approvalWaitingSeconds)s
            ||| % c,
            'OpenClaw remediator actions wait for approval.',
            'The oldest action waiting for approval on the remediator {{ $labels.instance }} has waited {{ $value | humanizeDuration }}; approve or reject it with openclaw-remediator approve or reject.',
            c.approvalWaitingFor,
          ),
          alert.new(
            c,
            'OpenClawRemediatorUpgradeFailed',
            'warning',
            'none',
            |||
              sum by (%(clusterLabel)s, job, instance, result) (
                increase(openclaw_remediator_upgrades_total{%(remediatorSelector)s, result=~"failed|interrupted"}[%(remediatorFailureWindow)s])
              ) > 0
            ||| % c,
            'A guarded OpenClaw upgrade stopped.',
            'An upgrade of the remediator on {{ $labels.instance }} ended {{ $labels.result }} within %(remediatorFailureWindow)s: the failed batch was rolled back (or, interrupted, left as it was) and later batches were not touched; its record in /api/v1/upgrades says why.' % c,
          ),
          alert.new(
            c,
            'OpenClawRemediatorJournalErrors',
            'critical',
            'none',
            |||
              increase(openclaw_remediator_journal_errors_total{%(remediatorSelector)s}[%(remediatorFailureWindow)s]) > 0
            ||| % c,
            'OpenClaw remediator cannot write its journal.',
            'The remediator on {{ $labels.instance }} failed to write its journal {{ $value | humanize }} times in %(remediatorFailureWindow)s; incidents and approvals may be lost across a restart.' % c,
          ),
        ],
      },
    ],
  },
}
