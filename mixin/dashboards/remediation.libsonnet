local g = import 'grafana.libsonnet';
local v = import 'variables.libsonnet';

// The remediator's own dashboard; its targets are the gateways it heals.
{
  grafanaDashboards+:: {
    local c = $._config,
    local jobs = v.clusterSelector(c, c.remediatorSelector),
    local sel = jobs + ', job=~"$job", instance=~"$instance"',
    local tsel = sel + ', target=~"$target"',
    local variables = [
      v.cluster(c, 'openclaw_remediator_pending_approvals{%s}' % c.remediatorSelector),
      g.queryVariable('job', 'Job', 'label_values(openclaw_remediator_pending_approvals{%s}, job)' % jobs, multi=false),
      g.queryVariable('instance', 'Instance', 'label_values(openclaw_remediator_pending_approvals{%s, job=~"$job"}, instance)' % jobs),
      g.queryVariable('target', 'Target', 'label_values(openclaw_remediator_circuit_open{%s}, target)' % sel),
    ],
    // Alerts of every instance: the gateways' alerts come from the
    // exporters, not from the remediator.
    'openclaw-remediation.json': g.dashboard('openclaw-remediation.json', 'OpenClaw / Remediation', c, variables, v.annotations(c, instance='.*', target='$target'), [
      g.stat('Pending approvals', 'Actions waiting for a human to approve or reject them.', 'short', [
        g.target('sum(openclaw_remediator_pending_approvals{%s})' % sel, 'pending'),
      ], w=8),
      g.stat('Oldest approval', 'How long the oldest pending approval has waited.', 's', [
        g.target('max(openclaw_remediator_pending_approval_oldest_age_seconds{%s})' % sel, 'oldest'),
      ], w=8),
      g.stat('Open circuits', 'Targets the remediator has given up on until a human looks.', 'short', [
        g.target('sum(openclaw_remediator_circuit_open{%s})' % tsel, 'open'),
      ], w=8),
      g.timeseries('Actions', 'Actions per second by action, target and result (success, failure, verify_failed, interrupted).', 'ops', [
        g.target('sum by (%s, instance, action, target, result) (rate(openclaw_remediator_actions_total{%s}[$__rate_interval])) > 0' % [c.clusterLabel, tsel], '{{action}} {{target}} {{result}}'),
      ]),
      g.timeseries('Action duration', 'p99 duration of an action from start to verified.', 's', [
        g.target('histogram_quantile(0.99, sum by (%s, instance, action, le) (rate(openclaw_remediator_action_duration_seconds_bucket{%s}[$__rate_interval])))' % [c.clusterLabel, sel], '{{action}}'),
      ]),
      g.timeseries('Incidents by decision', 'What the remediator decided for each incident: executed, duplicate, no_match, cooldown, rate_limited, circuit_open, dry_run, pending_approval, rejected, expired.', 'ops', [
        g.target('sum by (%s, instance, decision) (rate(openclaw_remediator_incidents_total{%s}[$__rate_interval])) > 0' % [c.clusterLabel, sel], '{{decision}}'),
      ]),
      g.timeseries('Circuit state', '1 while the circuit of a target is open.', 'none', [
        g.target('openclaw_remediator_circuit_open{%s}' % tsel, '{{target}}'),
      ]),
      g.timeseries('Webhook requests', 'Webhook requests from Alertmanager by HTTP status code.', 'reqps', [
        g.target('sum by (%s, instance, code) (rate(openclaw_remediator_webhook_requests_total{%s}[$__rate_interval]))' % [c.clusterLabel, sel], '{{code}}'),
      ]),
      g.timeseries('Alerts received', 'Alerts in the webhook payloads by status (firing, resolved).', 'ops', [
        g.target('sum by (%s, instance, status) (rate(openclaw_remediator_alerts_received_total{%s}[$__rate_interval]))' % [c.clusterLabel, sel], '{{status}}'),
      ]),
      g.timeseries('Journal errors', 'Failed writes to the journal, over the range of each point.', 'short', [
        g.target('increase(openclaw_remediator_journal_errors_total{%s}[$__rate_interval])' % sel, '{{instance}}'),
      ]),
      g.timeseries('Pending approvals', 'Actions waiting for approval over time.', 'short', [
        g.target('openclaw_remediator_pending_approvals{%s}' % sel, '{{instance}}'),
      ]),
    ]),
  },
}
