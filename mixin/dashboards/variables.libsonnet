// The variables every exporter dashboard shares: job, instance, gateway.
local g = import 'grafana.libsonnet';

{
  exporter(config):: [
    g.queryVariable('job', 'Job', 'label_values(openclaw_exporter_build_info{%(exporterSelector)s}, job)' % config, multi=false),
    g.queryVariable('instance', 'Instance', 'label_values(openclaw_exporter_build_info{job=~"$job"}, instance)'),
  ],
  gateway:: g.queryVariable('gateway', 'Gateway', 'label_values(openclaw_gateway_up{job=~"$job", instance=~"$instance"}, gateway)'),
  selector:: 'job=~"$job", instance=~"$instance", gateway=~"$gateway"',
}
