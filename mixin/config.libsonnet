// Every knob of the mixin. Override from your own jsonnet:
//
//   (import 'mixin.libsonnet') + { _config+:: { memoryCriticalRatio: 0.85 } }
//
// Thresholds come from the operators' write-ups (see docs/runbooks.md).
// Windows are Prometheus durations; gauges are read over `gaugeWindow` with
// min_over_time/max_over_time so that one failed scrape (a staleness marker)
// neither resets a pending alert nor starts one, and the alert then waits
// `…For` on top of that.
{
  _config+:: {
    // Selectors of the scrape jobs. Every alert, recording rule, panel and
    // template variable selects with them, so a fleet's Prometheus can hold
    // other jobs of the same names: 'job="openclaw", cluster="prod"'.
    exporterSelector: 'job="openclaw"',
    remediatorSelector: 'job="openclaw-remediator"',

    // Fleets (the kubernetes-mixin and node-mixin convention): the label
    // that names a cluster, kept by every aggregation and join, and a
    // cluster variable on every dashboard, shown when showMultiCluster.
    // Series without the label match too, so one host needs neither.
    clusterLabel: 'cluster',
    showMultiCluster: false,

    // Labels that identify one gateway's series; every gateway alert keeps
    // them (the remediator takes its target from `gateway`).
    gatewayLabels: '%s, job, instance, gateway' % self.clusterLabel,

    // Where the runbook_url of every alert points; %s is the lower-case alert name.
    runbookURLPattern: 'https://github.com/clawwatch/clawwatch/blob/main/docs/runbooks.md#%s',

    // Windows shared by many rules.
    gaugeWindow: '2m',  // gauges are judged over this window (see above)
    rateWindow: '5m',  // rate() window of the recording rules and rate alerts

    // Gateway availability. A down or hung gateway is restarted, so these
    // two fire as soon as the exporter's background probes have failed
    // without a break for unresponsiveSeconds (openclaw_gateway_unresponsive_seconds:
    // 6 probes at the default 5s interval), with no range window or `for` on
    // top: one lost probe resets the count, one lost scrape neither starts
    // nor resets it, and the fault-to-healthy loop stays around a minute at
    // 15s scrapes (docs/benchmarks.md). Whether the process is alive and why
    // the probes failed (refused, or timeout and bad answers) are read over
    // availabilityWindow.
    unresponsiveSeconds: 30,
    availabilityWindow: '1m',
    // The gateway alerts are evaluated this often, whatever Prometheus's
    // evaluation_interval: a restart alert then fires within this of the
    // scrape that shows the run of failures long enough, not up to a whole
    // evaluation interval later (15s is common). The expressions read the
    // last samples, so evaluating more often changes when they fire, never
    // whether.
    gatewayEvaluationInterval: '5s',
    gatewayNotReadyFor: '5m',

    // The RPC probe (gateways with a token_file). The hidden hang, /healthz
    // answering while the RPC times out, is judged over availabilityWindow
    // like a hung gateway and restarted as fast: 4 RPC probes at the
    // default 15s rpc_interval. The health snapshot's gauges over gaugeWindow.
    rpcHungFor: '30s',
    rpcProbeFailingFor: '5m',
    channelDisconnectedFor: '5m',
    // A channel restart reconnects within seconds when it can; what is
    // still down this long after it gets the gateway restarted.
    channelDisconnectedEscalateFor: '30m',
    safeModeFor: '1m',
    // Longer than the breaker's 5-minute window plus the gateway's health
    // monitor interval: the gateway's own recovery comes first.
    channelSafeModeFor: '10m',
    modelRuntimeDegradedFor: '5m',
    pluginsFailingFor: '10m',

    // Probe latency: normal < 100 ms, alarming > 500 ms (p99 of /healthz).
    // The p99 is taken over probeLatencyWindow, 120 probes at the default 5s
    // probe_interval, so that more than one probe must be slow (over 5m, 60
    // probes, the p99 is the slowest probe alone); and the alert waits
    // longer than the window, so that one slow episode shorter than
    // probeLatencyFor minus the window (a neighbour's burst on a loaded box)
    // cannot trip it: the slowness must last.
    probeLatencyP99Seconds: 0.5,
    probeLatencyWindow: '10m',
    probeLatencyFor: '15m',
    // Probe failures: normal < 0.5 %, alarming > 2 %.
    probeFailureRatio: 0.02,
    probeFailureFor: '10m',

    // Event loop: normal < 20 ms, alarming > 50 ms for 2 minutes.
    eventLoopLagSeconds: 0.05,
    eventLoopLagFor: '1m',
    eventLoopDegradedFor: '2m',

    // Restart loop: this many process starts within the window.
    restartLoopCount: 3,
    restartLoopWindow: '15m',

    multipleProcessesFor: '5m',
    staleLockFor: '5m',

    // Memory: normal < 70 % of the limit, alarming > 90 %. The limit is the
    // exporter's memory_limit_bytes of the gateway, else its cgroup's, else
    // memoryLimitBytes: a home server sets no cgroup limit, and seed 000
    // restarts its gateway at 12 GB. 0 leaves gateways without a limit
    // unwatched.
    memoryLimitBytes: 12 * 1024 * 1024 * 1024,
    memoryWarningRatio: 0.7,
    memoryWarningFor: '15m',
    memoryCriticalRatio: 0.9,
    memoryCriticalFor: '5m',
    // Leak: the trend of the last leakWindow reaches the limit within
    // leakHorizon. A prediction hours ahead restarts at a quiet moment (no
    // active agent turn; remediation_timing: quiet) or asks a person; the
    // critical ...NearLimit alerts restart at once when the limit is near.
    leakWindow: '1h',
    leakHorizonSeconds: 4 * 3600,
    // A process younger than this is warming up, not leaking.
    leakMinUptimeSeconds: 3600,
    leakFor: '15m',

    // File descriptors.
    fdCriticalRatio: 0.9,
    fdCriticalFor: '5m',
    fdLeakFor: '15m',

    // Established connections: normal < 1000, alarming > 1500.
    connectionsWarning: 1000,
    connectionsCritical: 1500,
    connectionsFor: '10m',

    // Logs and disks.
    logBytesPerSecond: 256 * 1024,
    logVolumeFor: '15m',
    // The bytes an operator allows each log directory; set it per host below
    // the room the logs' filesystem has. cleanup_logs should bring the
    // directory under it (the remediator's log_retention.max_total_bytes).
    logDirectoryBudgetBytes: 5 * 1024 * 1024 * 1024,
    logDirectoryOverBudgetFor: '5m',
    errorLogPatterns: ['out_of_memory', 'emfile', 'ebadf', 'eaddrinuse', 'memory_pressure_critical', 'restart_given_up', 'model_not_responding', 'invalid_api_response'],
    errorLogBurstCount: 5,
    errorLogBurstWindow: '5m',
    // A burst fires once it has lasted errorLogBurstFor, and keeps firing for
    // errorLogBurstKeepFiringFor after the count falls back under the
    // threshold: errors that trickle at about the threshold would otherwise
    // fire and resolve over and over.
    errorLogBurstFor: '1m',
    errorLogBurstKeepFiringFor: '10m',
    // Disks. The logs and the state directory on one filesystem are one
    // filesystem (the exporter reports it twice: same size, same free
    // space), so one alert, on the logs' series.
    diskFullRatio: 0.9,
    diskFullFor: '5m',
    // The trend of diskFillWindow says full within diskFillHorizon, for
    // diskFillFor. The trend needs diskFillMinHistory of samples: a fresh
    // Prometheus with minutes of history would stretch a neighbour's swing
    // of a few GB into "full tomorrow"; the window must have lost space
    // (a swing that came back tilts the trend for hours but lost nothing);
    // and a swing shorter than diskFillFor resets the alert before it
    // fires. DiskAlmostFull covers a disk that fills faster than that.
    diskFillWindow: '6h',
    diskFillMinHistory: '1h',
    diskFillHorizonSeconds: 24 * 3600,
    diskFillAvailRatio: 0.4,
    diskFillFor: '1h',

    // Reasoning quality (pass ratio of the suite).
    reasoningPassRatio: 0.8,
    reasoningWindow: '30m',
    reasoningDegradedFor: '15m',
    // A degradation within this long after a version change asks for a rollback.
    rollbackWindow: '6h',
    // Releases that must not run, as a regex of the version label: those
    // with published advisories (the remediator's DefaultKnownBad: before
    // 2026.9.3 the diagnostics endpoint did not enforce operator.read). Add
    // the remediator's known_bad_releases here too.
    knownBadVersionRegex: '([01][0-9]{3}|20[01][0-9]|202[0-5])[.][0-9]+[.][0-9]+(-.+)?|2026[.][1-8][.][0-9]+(-.+)?|2026[.]9[.][0-2](-.+)?|2026[.]9[.]3-.+',
    knownBadReleaseFor: '5m',
    modelServerDownFor: '2m',

    // GPUs.
    gpuUtilizationRatio: 0.9,
    gpuSaturatedFor: '15m',
    gpuMemoryRatio: 0.95,
    gpuMemoryFor: '15m',
    gpuTemperatureCelsius: 85,
    gpuHotFor: '5m',

    // The exporter and the remediator themselves.
    exporterDownFor: '5m',
    collectorFailingFor: '10m',
    remediatorDownFor: '5m',
    // A job absent from every scrape target (gone from discovery or from the
    // scrape configuration) for this long: ExporterAbsent, RemediatorAbsent.
    absentFor: '5m',
    remediatorFailureWindow: '30m',
    approvalWaitingSeconds: 1800,
    approvalWaitingFor: '1m',
    circuitOpenFor: '1m',

    // Dashboards.
    dashboardTags: ['openclaw', 'clawwatch'],
    dashboardRefresh: '30s',
    dashboardTimeFrom: 'now-6h',
  },
}
