// How knobs are spelled in PromQL and in alert text: jsonnet's own %s would
// print 0.8 as 0.80000000000000004.
{
  number(x):: '%.15g' % x,

  // config returns the knobs with every number spelled as a string.
  config(c):: std.mapWithKey(function(_, v) if std.isNumber(v) then self.number(v) else v, c),
}
