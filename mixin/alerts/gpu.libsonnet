local format = import '../format.libsonnet';
local alert = import 'alert.libsonnet';

// GPU series are per host and keyed by uuid; the GPU's name and index are
// in openclaw_gpu_info (joined on the dashboard, not here: a driver update
// changes the info series and would make a join ambiguous).
{
  prometheusAlerts+:: {
    local c = format.config($._config),
    groups+: [
      {
        name: 'openclaw-gpu',
        rules: [
          alert.new(
            c,
            'OpenClawGPUSaturated',
            'warning',
            'none',
            |||
              min_over_time(openclaw_gpu_utilization_ratio{%(exporterSelector)s}[%(gaugeWindow)s]) > %(gpuUtilizationRatio)s
            ||| % c,
            'A GPU serving OpenClaw models is saturated.',
            'GPU {{ $labels.uuid }} on {{ $labels.instance }} has been busy more than %(gpuUtilizationRatio)s of the time for %(gpuSaturatedFor)s; requests to the model queue up.' % c,
            c.gpuSaturatedFor,
          ),
          alert.new(
            c,
            'OpenClawGPUMemoryNearFull',
            'warning',
            'none',
            |||
              min_over_time(openclaw_gpu_memory_used_bytes{%(exporterSelector)s}[%(gaugeWindow)s])
                / max_over_time(openclaw_gpu_memory_total_bytes{%(exporterSelector)s}[%(gaugeWindow)s])
                > %(gpuMemoryRatio)s
            ||| % c,
            'A GPU serving OpenClaw models is almost out of memory.',
            'GPU {{ $labels.uuid }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} of its memory in use (alarming above %(gpuMemoryRatio)s).' % c,
            c.gpuMemoryFor,
          ),
          alert.new(
            c,
            'OpenClawGPUHot',
            'warning',
            'none',
            |||
              min_over_time(openclaw_gpu_temperature_celsius{%(exporterSelector)s}[%(gaugeWindow)s]) > %(gpuTemperatureCelsius)s
            ||| % c,
            'A GPU serving OpenClaw models runs hot.',
            'GPU {{ $labels.uuid }} on {{ $labels.instance }} is at {{ $value }} °C (alarming above %(gpuTemperatureCelsius)s °C); it will throttle its clocks.' % c,
            c.gpuHotFor,
          ),
        ],
      },
    ],
  },
}
