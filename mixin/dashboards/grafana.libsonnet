// Building blocks for Grafana dashboard JSON, in plain jsonnet (no
// grafonnet: nothing is fetched at build time). Each block writes every field
// the Grafana foundation SDK's schema requires, so that the dashboards decode
// strictly (mixin/dashboards_strict_test.go) and Grafana 12 loads them
// without migrating them.
{
  local datasource = { type: 'prometheus', uid: '${datasource}' },

  // dashboard lays the panels out left to right on Grafana's 24-column grid,
  // starting a new line when a panel does not fit or after a row. The uid is
  // derived from the file name so that links and provisioning stay stable.
  dashboard(file, title, config, variables, annotations, panels):: {
    uid: std.md5(file)[0:24],
    title: title,
    description: 'Generated from clawwatch mixin/dashboards; edit the jsonnet, not this file.',
    tags: config.dashboardTags,
    editable: false,
    graphTooltip: 1,
    refresh: config.dashboardRefresh,
    // The schema version Grafana 12 writes (the foundation SDK's default).
    schemaVersion: 42,
    time: { from: config.dashboardTimeFrom, to: 'now' },
    timezone: 'browser',
    annotations: { list: annotations },
    links: [{
      title: 'OpenClaw dashboards',
      type: 'dashboards',
      icon: 'external link',
      tooltip: '',
      tags: config.dashboardTags,
      asDropdown: true,
      targetBlank: false,
      includeVars: true,
      keepTime: true,
    }],
    templating: { list: [$.datasourceVariable] + variables },
    panels: $.layout(panels),
  },

  layout(panels)::
    local step(state, p) =
      local w = p.gridPos.w;
      local h = p.gridPos.h;
      local wrap = p.type == 'row' || state.x + w > 24;
      local x = if wrap then 0 else state.x;
      local y = if wrap then state.y + state.h else state.y;
      {
        x: if p.type == 'row' then 24 else x + w,
        y: y,
        h: if wrap then h else std.max(state.h, h),
        out: state.out + [p { id: std.length(state.out) + 1, gridPos+: { x: x, y: y } }],
      };
    std.foldl(step, panels, { x: 0, y: 0, h: 0, out: [] }).out,

  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: { text: 'default', value: 'default' },
    hide: 0,
    refresh: 1,
    regex: '',
    options: [],
  },

  // queryVariable lists the values of a label; multi-select variables match
  // everything with '.+' when "All" is chosen. A single-select variable
  // without values is Grafana's "None", the empty string, which matches
  // series without the label.
  queryVariable(name, label, query, multi=true, hide=false):: {
    name: name,
    label: label,
    type: 'query',
    datasource: datasource,
    definition: query,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    current: if multi then { text: 'All', value: '$__all' } else { text: '', value: '' },
    hide: if hide then 2 else 0,
    refresh: 2,
    regex: '',
    sort: 1,
    multi: multi,
    includeAll: multi,
    [if multi then 'allValue']: '.+',
    options: [],
  },

  target(expr, legend=''):: {
    expr: expr,
    legendFormat: legend,
  },

  local panel(type, title, description, unit, targets, w, h) = {
    type: type,
    title: title,
    description: description,
    datasource: datasource,
    gridPos: { w: w, h: h },
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
    targets: [
      t { datasource: datasource, refId: std.char(std.codepoint('A') + i) }
      for i in std.range(0, std.length(targets) - 1)
      for t in [targets[i]]
    ],
  },

  timeseries(title, description, unit, targets, w=12, h=8):: panel('timeseries', title, description, unit, targets, w, h) {
    fieldConfig+: { defaults+: { custom: { fillOpacity: 10, showPoints: 'never' } } },
    options: {
      legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  },

  stat(title, description, unit, targets, w=6, h=4, mappings=[]):: panel('stat', title, description, unit, targets, w, h) {
    fieldConfig+: { defaults+: { mappings: mappings } },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'area',
      textMode: 'value_and_name',
      justifyMode: 'auto',
      orientation: 'auto',
      wideLayout: true,
      showPercentChange: false,
      percentChangeColorMode: 'standard',
    },
  },

  // table shows the instant result of each query, one row per series.
  table(title, description, unit, targets, w=24, h=6):: panel('table', title, description, unit, [t { instant: true, format: 'table' } for t in targets], w, h) {
    options: { showHeader: true, frameIndex: 0 },
    transformations: [{ id: 'merge', options: {} }],
  },

  // annotation marks a panel where a query returns series: a region while
  // a series lasts, titled and tagged from its labels.
  annotation(name, color, expr, title, text, tags):: {
    name: name,
    datasource: datasource,
    enable: true,
    hide: false,
    iconColor: color,
    expr: expr,
    titleFormat: title,
    textFormat: text,
    tagKeys: tags,
    useValueForTime: false,
  },

  row(title):: {
    type: 'row',
    title: title,
    collapsed: false,
    gridPos: { w: 24, h: 1 },
    panels: [],
  },

  upDownMappings:: [{
    type: 'value',
    options: {
      '0': { text: 'down', color: 'red', index: 0 },
      '1': { text: 'up', color: 'green', index: 1 },
    },
  }],
}
