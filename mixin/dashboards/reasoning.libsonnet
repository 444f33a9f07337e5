local format = import '../format.libsonnet';
local g = import 'grafana.libsonnet';
local v = import 'variables.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local sel = v.gatewaySelector(c),
    local model = g.queryVariable('model', 'Model', 'label_values(openclaw_reasoning_pass_ratio{%s}, model)' % sel),
    local msel = sel + ', model=~"$model"',
    'openclaw-reasoning.json': g.dashboard('openclaw-reasoning.json', 'OpenClaw / Reasoning quality', c, v.exporter(c) + [v.gateway(c), model], v.annotations(c), [
      g.stat('Pass ratio', 'Share of the suite that passed in the last run.', 'percentunit', [
        g.target('openclaw_reasoning_pass_ratio{%s}' % msel, '{{model}} {{suite}}'),
      ], w=8),
      g.stat('Since last run', 'Time since the last run of the suite finished.', 's', [
        g.target('time() - openclaw_reasoning_last_run_timestamp_seconds{%s}' % msel, '{{model}} {{suite}}'),
      ], w=8),
      g.stat('Since last pass', 'Time since a run last passed the whole suite.', 's', [
        g.target('time() - openclaw_reasoning_last_pass_timestamp_seconds{%s}' % msel, '{{model}} {{suite}}'),
      ], w=8),
      g.timeseries('Pass ratio', 'Share of the suite that passed, per run. Below %(reasoningPassRatio)s for %(reasoningWindow)s is an alert.' % format.config(c), 'percentunit', [
        g.target('openclaw_reasoning_pass_ratio{%s}' % msel, '{{gateway}} {{model}} {{suite}}'),
      ]),
      g.timeseries('Runs', 'Runs of the suite per hour by result (passed, failed, error).', 'short', [
        g.target('sum by (%s, model, suite, result) (rate(openclaw_reasoning_runs_total{%s}[$__rate_interval])) * 3600' % [c.gatewayLabels, msel], '{{model}} {{suite}} {{result}}'),
      ]),
      g.timeseries('Failures by reason', 'Failed tests by reason (wrong_answer, timeout, http_error, empty_answer, think_truncated) over the range of each point.', 'short', [
        g.target('sum by (%s, model, suite, reason) (increase(openclaw_reasoning_failures_total{%s}[$__rate_interval])) > 0' % [c.gatewayLabels, msel], '{{model}} {{reason}}'),
      ]),
      g.timeseries('Run duration', 'p90 duration of a whole run of the suite.', 's', [
        g.target('histogram_quantile(0.9, sum by (%s, model, suite, le) (rate(openclaw_reasoning_run_duration_seconds_bucket{%s}[$__rate_interval])))' % [c.gatewayLabels, msel], '{{model}} {{suite}}'),
      ]),
      g.timeseries('Completion speed', 'Completion tokens per second in the last run.', 'short', [
        g.target('openclaw_reasoning_completion_tokens_per_second{%s}' % msel, '{{model}} {{suite}}'),
      ]),
      g.timeseries('Model server', '1 when the model server answered its health probe.', 'none', [
        g.target('openclaw_model_server_up{%s}' % msel, '{{model}} up'),
      ]),
      g.timeseries('Model server probe latency', 'p99 duration of the model server health probe.', 's', [
        g.target('histogram_quantile(0.99, sum by (%s, model, le) (rate(openclaw_model_server_probe_duration_seconds_bucket{%s}[$__rate_interval])))' % [c.gatewayLabels, msel], '{{model}}'),
      ]),
      g.table('Tests in the last run', '1 when the test passed in the last run, 0 when it failed.', 'none', [
        g.target('max by (%s, model, suite, test) (openclaw_reasoning_test_passed{%s})' % [c.gatewayLabels, msel]),
      ], h=10),
    ]),
  },
}
