// The demo's timings for the mixin: every window short enough that a fault
// is alerted, remediated and resolved within a minute. Used by `make demo`
// and the end-to-end tests (e2e/loop_test.go). Predictions keep their
// production `for`: a linear fit over seconds is noise, not a trend. So does
// absence from the scrape targets: a stack that is starting has no samples yet,
// and the escalation of a disconnected channel to a gateway restart, which
// waits a minute so that the channel's own restart comes first.
// A gateway is unresponsive after 15 s of failed probes (15 at the demo's 1 s),
// and the availability alerts look 15 s back for a live process and for the
// kind of failure: the real gateway refuses connections for up to 15 s after
// the remediator restarts it, and a shorter window would page
// OpenClawGatewayDown for the remediator's own restart of a hung gateway.
{
  _config+:: std.mapWithKey(
    function(k, v)
      if std.member(['diskFillFor', 'leakFor', 'fdLeakFor', 'absentFor'], k) then v
      else if k == 'unresponsiveSeconds' then 15
      // The channel's restart must have its chance before the gateway's.
      else if k == 'channelDisconnectedEscalateFor' then '1m'
      else if std.endsWith(k, 'For') then '5s'
      else if k == 'availabilityWindow' then '15s'
      else if k == 'gaugeWindow' then '10s'
      else if std.endsWith(k, 'Window') then '20s'
      else v,
    super._config
  ),
}
