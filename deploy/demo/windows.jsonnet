// The demo's timings for the mixin: every window short enough that a fault
// is alerted, remediated and resolved within a minute. Used by `make demo`
// and the end-to-end tests (e2e/loop_test.go). Predictions keep their
// production `for`: a linear fit over seconds is noise, not a trend. So does
// absence from the scrape targets: a stack that is starting has no samples yet.
{
  _config+:: std.mapWithKey(
    function(k, v)
      if std.member(['diskFillFor', 'leakFor', 'fdLeakFor', 'absentFor'], k) then v
      else if std.endsWith(k, 'For') then '5s'
      else if k == 'gaugeWindow' || k == 'availabilityWindow' then '10s'
      else if std.endsWith(k, 'Window') then '20s'
      else v,
    super._config
  ),
}
