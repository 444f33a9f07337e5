local format = import '../format.libsonnet';
local g = import 'grafana.libsonnet';
local v = import 'variables.libsonnet';

// GPUs are per host and keyed by uuid; names come from openclaw_gpu_info.
{
  grafanaDashboards+:: {
    local c = $._config,
    local host = v.host(c),
    local gpu = g.queryVariable('gpu', 'GPU', 'label_values(openclaw_gpu_info{%s}, uuid)' % host),
    local sel = host + ', uuid=~"$gpu"',
    local gpuLabels = '%s, job, instance, uuid' % c.clusterLabel,
    // Name each series after the GPU's index and model.
    local named(expr) = '(%s) * on (%s) group_left (index, name) max by (%s, index, name) (openclaw_gpu_info{%s})' % [expr, gpuLabels, gpuLabels, sel],
    local legend = 'GPU {{index}} {{name}}',
    'openclaw-gpu.json': g.dashboard('openclaw-gpu.json', 'OpenClaw / GPU', c, v.exporter(c) + [v.gateway(c), gpu], v.annotations(c), [
      g.table('GPUs', 'Each GPU with its driver and CUDA version.', 'none', [
        g.target('max by (%s, index, name, driver_version, cuda_version, pci_bus_id) (openclaw_gpu_info{%s})' % [gpuLabels, sel]),
      ], h=5),
      g.stat('NVML', '1 when NVML is initialised; 0 when the exporter cannot talk to the driver.', 'none', [
        g.target('openclaw_gpu_nvml_up{%s}' % host, '{{instance}}'),
      ], w=12, mappings=g.upDownMappings),
      g.stat('GPU collector', '1 when the GPU collector succeeded in the last scrape.', 'none', [
        g.target('openclaw_exporter_collector_success{%s, collector="gpu"}' % host, '{{instance}}'),
      ], w=12, mappings=g.upDownMappings),
      g.timeseries('Utilization', 'Share of time a kernel ran on the GPU. Alarming above %(gpuUtilizationRatio)s.' % format.config(c), 'percentunit', [
        g.target(named('openclaw_gpu_utilization_ratio{%s}' % sel), legend),
      ]),
      g.timeseries('Memory used', 'GPU memory in use and the total.', 'bytes', [
        g.target(named('openclaw_gpu_memory_used_bytes{%s}' % sel), legend + ' used'),
        g.target(named('openclaw_gpu_memory_total_bytes{%s}' % sel), legend + ' total'),
      ]),
      g.timeseries('Memory bandwidth utilization', 'Share of time memory was read or written.', 'percentunit', [
        g.target(named('openclaw_gpu_memory_utilization_ratio{%s}' % sel), legend),
      ]),
      g.timeseries('Memory by process', 'GPU memory used by the gateway and by its model server.', 'bytes', [
        g.target('openclaw_gpu_process_memory_used_bytes{%s, gateway=~"$gateway"}' % sel, '{{gateway}} {{process}}'),
      ]),
      g.timeseries('Temperature', 'GPU temperature. Alarming above %(gpuTemperatureCelsius)s °C.' % format.config(c), 'celsius', [
        g.target(named('openclaw_gpu_temperature_celsius{%s}' % sel), legend),
      ]),
      g.timeseries('Power', 'Power draw and the power limit.', 'watt', [
        g.target(named('openclaw_gpu_power_watts{%s}' % sel), legend + ' draw'),
        g.target(named('openclaw_gpu_power_limit_watts{%s}' % sel), legend + ' limit'),
      ]),
      g.timeseries('Clocks', 'SM and memory clocks.', 'hertz', [
        g.target(named('openclaw_gpu_clock_hertz{%s}' % sel), legend + ' {{clock}}'),
      ]),
      g.timeseries('Throttling', 'Active clock throttle reasons.', 'none', [
        g.target(named('openclaw_gpu_throttle_active{%s} > 0' % sel), legend + ' {{reason}}'),
      ]),
      g.timeseries('ECC and XID errors', 'ECC errors by type and XID errors, over the range of each point.', 'short', [
        g.target(named('increase(openclaw_gpu_ecc_errors_total{%s}[$__rate_interval])' % sel), legend + ' ECC {{type}}'),
        g.target(named('increase(openclaw_gpu_xid_errors_total{%s}[$__rate_interval])' % sel), legend + ' XID'),
      ]),
    ]),
  },
}
