// The shape every clawwatch alert shares: severity and remediation labels, a
// static summary, a templated description and the runbook anchor named after
// the alert. The remediation label names an action of the remediator's
// registry or none (remediator/actions' TestMixinRemediationLabelsAgree).
// An alert that predicts trouble hours ahead says timing='quiet': the
// remediator's default policies then wait for a moment without active
// agent turns before they act, and ask a person when none comes.
{
  // duration spells a number of seconds the way an operator reads it.
  duration(seconds)::
    if seconds % 3600 == 0 then '%dh' % (seconds / 3600)
    else if seconds % 60 == 0 then '%dm' % (seconds / 60)
    else '%ds' % seconds,

  new(config, name, severity, remediation, expr, summary, description, forDuration=null, keepFiringFor=null, timing=null):: {
    assert timing == null || timing == 'quiet' : '%s: timing %s' % [name, timing],
    assert std.member(['critical', 'warning', 'info'], severity) : '%s: severity %s' % [name, severity],
    assert std.endsWith(summary, '.') : '%s: the summary ends with a period' % name,
    alert: name,
    expr: expr,
    [if forDuration != null then 'for']: forDuration,
    [if keepFiringFor != null then 'keep_firing_for']: keepFiringFor,
    labels: {
      severity: severity,
      remediation: remediation,
      [if timing != null then 'remediation_timing']: timing,
    },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: config.runbookURLPattern % std.asciiLower(name),
    },
  },
}
