local g = import 'grafana.libsonnet';
local v = import 'variables.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local sel = v.gatewaySelector(c),
    // The limit the memory alerts judge by (mixin/rules).
    local limit = 'gateway:openclaw_gateway_process_memory_limit_bytes:effective{%s}' % sel,
    'openclaw-resources.json': g.dashboard('openclaw-resources.json', 'OpenClaw / Resources', c, v.exporter(c) + [v.gateway(c)], v.annotations(c), [
      g.row('Memory'),
      g.timeseries('Resident memory', "Resident memory of the gateway process and its limit: the exporter's memory_limit_bytes, else its cgroup's, else the mixin's memoryLimitBytes.", 'bytes', [
        g.target('openclaw_gateway_process_resident_memory_bytes{%s}' % sel, '{{gateway}} resident'),
        g.target(limit, '{{gateway}} limit'),
      ]),
      g.timeseries('Memory of limit', 'Resident memory as a share of the limit. Normal below 70 %, alarming above 90 %.', 'percentunit', [
        g.target('openclaw_gateway_process_resident_memory_bytes{%s} / on (%s) %s' % [sel, c.gatewayLabels, limit], '{{gateway}}'),
      ]),
      g.row('File descriptors and connections'),
      g.timeseries('File descriptors', 'Open file descriptors and the soft limit.', 'short', [
        g.target('openclaw_gateway_process_open_fds{%s}' % sel, '{{gateway}} open'),
        g.target('openclaw_gateway_process_max_fds{%s}' % sel, '{{gateway}} limit'),
      ]),
      g.timeseries('TCP connections', 'TCP sockets on the gateway port by state. Established: normal below 1000, alarming above 1500.', 'short', [
        g.target('openclaw_gateway_process_tcp_connections{%s} > 0' % sel, '{{gateway}} {{state}}'),
      ]),
      g.timeseries('Threads', 'Threads of the gateway process.', 'short', [
        g.target('openclaw_gateway_process_threads{%s}' % sel, '{{gateway}}'),
      ]),
      g.timeseries('Gateway processes', 'Processes titled like a gateway on the host; more than one is a conflict.', 'short', [
        g.target('openclaw_gateway_processes{%s}' % sel, '{{gateway}}'),
      ]),
      g.row('Locks'),
      g.timeseries('Lock files', 'Lock files, stale ones (dead or reused owner) and unreadable ones.', 'short', [
        g.target('openclaw_gateway_lock_files{%s}' % sel, '{{gateway}} all'),
        g.target('openclaw_gateway_lock_stale_files{%s}' % sel, '{{gateway}} stale'),
        g.target('openclaw_gateway_lock_unreadable_files{%s}' % sel, '{{gateway}} unreadable'),
      ]),
      g.timeseries('Oldest lock age', 'Age of the oldest lock file by modification time.', 's', [
        g.target('openclaw_gateway_lock_oldest_age_seconds{%s}' % sel, '{{gateway}}'),
      ]),
      g.row('Logs'),
      g.timeseries('Log lines by level', 'Lines per second read from the newest log by tslog level.', 'short', [
        g.target('sum by (%s, level) (rate(openclaw_log_lines_total{%s}[$__rate_interval]))' % [c.gatewayLabels, sel], '{{gateway}} {{level}}'),
      ]),
      g.timeseries('Known error patterns', 'Lines matching the configured patterns per second.', 'short', [
        g.target('sum by (%s, pattern) (rate(openclaw_log_pattern_matches_total{%s}[$__rate_interval])) > 0' % [c.gatewayLabels, sel], '{{gateway}} {{pattern}}'),
      ]),
      g.timeseries('Log volume', 'Bytes of log written per second.', 'Bps', [
        g.target('rate(openclaw_log_read_bytes_total{%s}[$__rate_interval])' % sel, '{{gateway}}'),
      ]),
      g.timeseries('Log size', 'Size of the log being tailed and of each log directory.', 'bytes', [
        g.target('openclaw_log_file_size_bytes{%s}' % sel, '{{gateway}} current file'),
        g.target('openclaw_log_directory_size_bytes{%s}' % sel, '{{gateway}} {{directory}}'),
      ]),
      g.row('Disk'),
      g.timeseries('Filesystem used', 'Share of the filesystems holding the logs and the state that is used. Alarming above 90 %.', 'percentunit', [
        g.target('1 - openclaw_filesystem_avail_bytes{%(sel)s} / openclaw_filesystem_size_bytes{%(sel)s}' % { sel: sel }, '{{gateway}} {{role}} {{path}}'),
      ]),
      g.timeseries('Filesystem available', 'Bytes available to unprivileged users.', 'bytes', [
        g.target('openclaw_filesystem_avail_bytes{%s}' % sel, '{{gateway}} {{role}} {{path}}'),
      ]),
    ]),
  },
}
