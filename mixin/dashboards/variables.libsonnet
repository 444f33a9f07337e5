// The variables every exporter dashboard shares (cluster, job, instance,
// gateway), the selectors built on them and the annotations every dashboard
// shows. Every selector starts with the scrape job's selector from _config,
// so that an override of exporterSelector reaches every panel.
local g = import 'grafana.libsonnet';

{
  // cluster is hidden unless _config.showMultiCluster; without the label in
  // the data it is "None" and matches every series.
  cluster(config, selector):: g.queryVariable(
    'cluster',
    'Cluster',
    'label_values(%s, %s)' % [selector, config.clusterLabel],
    multi=false,
    hide=!config.showMultiCluster,
  ),

  // clusterSelector is a job's selector narrowed to the chosen cluster.
  clusterSelector(config, jobSelector):: '%s, %s=~"$cluster"' % [jobSelector, config.clusterLabel],

  // host selects the chosen exporters; gateway the chosen gateways of them.
  host(config):: '%s, job=~"$job", instance=~"$instance"' % self.clusterSelector(config, config.exporterSelector),
  gatewaySelector(config):: self.host(config) + ', gateway=~"$gateway"',

  exporter(config):: [
    self.cluster(config, 'openclaw_exporter_build_info{%s}' % config.exporterSelector),
    g.queryVariable('job', 'Job', 'label_values(openclaw_exporter_build_info{%s}, job)' % self.clusterSelector(config, config.exporterSelector), multi=false),
    g.queryVariable('instance', 'Instance', 'label_values(openclaw_exporter_build_info{%s, job=~"$job"}, instance)' % self.clusterSelector(config, config.exporterSelector)),
  ],
  gateway(config):: g.queryVariable('gateway', 'Gateway', 'label_values(openclaw_gateway_up{%s}, gateway)' % self.host(config)),

  // annotations: the OpenClaw alerts firing on the chosen instances, and
  // the remediator's actions on the chosen targets (the remediator's
  // targets are named after the gateways whose alerts it receives).
  annotations(config, instance='$instance', target='$gateway'):: [
    g.annotation(
      'OpenClaw alerts',
      'red',
      'ALERTS{alertname=~"OpenClaw.*", alertstate="firing", %s=~"$cluster", instance=~"%s"}' % [config.clusterLabel, instance],
      '{{alertname}}',
      '{{severity}}: gateway {{gateway}} on {{instance}}',
      'severity,remediation',
    ),
    g.annotation(
      'Remediation actions',
      'orange',
      'sum by (%s, instance, action, target, result) (increase(openclaw_remediator_actions_total{%s, target=~"%s"}[$__rate_interval])) > 0' % [
        config.clusterLabel,
        self.clusterSelector(config, config.remediatorSelector),
        target,
      ],
      '{{action}} {{target}}: {{result}}',
      'by the remediator {{instance}}',
      'action,result',
    ),
  ],
}
