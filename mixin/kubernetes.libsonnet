// The mixin as Kubernetes objects: its alerts and recording rules as one
// prometheus-operator PrometheusRule, its dashboards as ConfigMaps that
// Grafana's dashboard sidecar (the grafana Helm chart, kube-prometheus-stack)
// picks up by label. mixin/build writes them into deploy/kubernetes/base/;
// a kube-prometheus user can instead addMixin the mixin itself. No namespace:
// Kustomize (or the caller) sets it.
{
  _config+:: {
    kubernetes: {
      // Name of the PrometheusRule and prefix of the dashboard ConfigMaps.
      name: 'clawwatch',
      // Labels of every object; a Prometheus selects PrometheusRules by its
      // ruleSelector (kube-prometheus-stack: release=<its release>).
      labels: { 'app.kubernetes.io/name': 'clawwatch', 'app.kubernetes.io/part-of': 'clawwatch' },
      // The label and value Grafana's sidecar watches (its `label` and
      // `labelValue`: grafana_dashboard=1 by default).
      dashboardLabel: 'grafana_dashboard',
      dashboardLabelValue: '1',
      // The folder the sidecar puts them in (its folderAnnotation).
      dashboardFolderAnnotation: 'grafana_folder',
      dashboardFolder: 'OpenClaw',
    },
  },

  prometheusRule:: {
    local k = $._config.kubernetes,
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: k.name, labels: k.labels },
    spec: { groups: $.prometheusAlerts.groups + $.prometheusRules.groups },
  },

  dashboardConfigMaps:: [
    local k = $._config.kubernetes;
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: k.name + '-dashboard-' + std.strReplace(std.strReplace(name, '.json', ''), '_', '-'),
        labels: k.labels { [k.dashboardLabel]: k.dashboardLabelValue },
        annotations: { [k.dashboardFolderAnnotation]: k.dashboardFolder },
      },
      data: { [name]: std.manifestJsonEx($.grafanaDashboards[name], '  ') },
    }
    for name in std.objectFields($.grafanaDashboards)
  ],
}
