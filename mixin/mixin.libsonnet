// The clawwatch mixin: alerts, recording rules and Grafana dashboards for
// OpenClaw gateways, the clawwatch exporter and the remediator. The outputs
// are hidden fields; knobs are in _config (config.libsonnet).
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet') +
(import 'kubernetes.libsonnet')
