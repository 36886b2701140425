// Draws the report's charts with uPlot from the JSON data embedded in the page. A
// baseline run, when there is one, is drawn dashed beside this run; an experiment's fault
// windows are shaded on the time charts.
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  if (!data.run) return; // an experiment without background load: tables only
  var width = Math.min(520, document.body.clientWidth - 40);
  var COLORS = { run: '#2f6fdf', p99: '#c0262d', baseline: '#8a93a6', errors: '#c0262d', dropped: '#d98200' };

  function bySecond(series, pick) {
    return series.map(function (s) { return pick(s); });
  }
  function seconds(n) {
    var xs = [];
    for (var i = 0; i < n; i += 1) xs.push(i + 1);
    return xs;
  }
  function pad(values, n) {
    var out = values.slice(0, n);
    while (out.length < n) out.push(null);
    return out;
  }
  // x is seconds since the load started (point k closes second k), so a window from
  // t0 to t1 seconds covers x in [t0, t1]. Drawn before the series, under the lines; the
  // canvas pixels of each band go in data-bands, for people debugging and for tests.
  function faultBands(windows) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx;
          var box = u.bbox;
          var drawn = [];
          ctx.save();
          windows.forEach(function (w, index) {
            var x0 = Math.max(box.left, u.valToPos(w.fromS, 'x', true));
            var x1 = Math.min(box.left + box.width, Math.max(u.valToPos(w.toS, 'x', true), x0 + 3 * devicePixelRatio));
            if (x1 <= box.left || x0 >= box.left + box.width) return;
            ctx.fillStyle = 'rgba(240, 140, 0, 0.22)';
            ctx.fillRect(x0, box.top, x1 - x0, box.height);
            ctx.fillStyle = '#9a5a00';
            ctx.font = (11 * devicePixelRatio) + 'px system-ui, sans-serif';
            // labels of nearby windows on rows of their own
            ctx.fillText(w.label, x0 + 3 * devicePixelRatio, box.top + (12 + 13 * (index % 3)) * devicePixelRatio);
            drawn.push([Math.round(x0), Math.round(x1), Math.round(box.top), Math.round(box.top + box.height)]);
          });
          ctx.restore();
          u.root.setAttribute('data-bands', JSON.stringify(drawn));
        }],
      },
    };
  }

  function chart(id, xs, lines, xLabel, xValues, windows) {
    var series = [{ label: xLabel }];
    var columns = [xs];
    lines.forEach(function (line) {
      series.push({ label: line.label, stroke: line.color, width: 2, dash: line.dash, spanGaps: true });
      columns.push(line.values);
    });
    var xAxis = { label: xLabel };
    if (xValues) xAxis.values = xValues;
    var plugins = windows && windows.length ? [faultBands(windows)] : [];
    return new uPlot({ width: width, height: 240, series: series, scales: { x: { time: false } }, axes: [xAxis, {}], plugins: plugins }, columns, document.getElementById(id));
  }

  // A run's last second is often a sliver (the responses still arriving as it stops), which
  // would chart as a fall in throughput at the very end: under half a second, it is left off
  // the time charts (the totals above still count it).
  function whole(result) {
    if (!result) return result;
    var last = (result.durationMs || 0) / 1000 - (result.series.length - 1);
    var series = result.durationMs && last < 0.5 ? result.series.slice(0, -1) : result.series;
    return { series: series, distribution: result.distribution };
  }
  var run = whole(data.run);
  var base = whole(data.baseline);
  var n = Math.max(run.series.length, base ? base.series.length : 0);
  var xs = seconds(n);
  function both(pick, label, color) {
    var lines = [{ label: label, color: color, values: pad(bySecond(run.series, pick), n) }];
    if (base) lines.push({ label: label + ' (baseline)', color: COLORS.baseline, dash: [6, 4], values: pad(bySecond(base.series, pick), n) });
    return lines;
  }

  var faults = data.faults || [];
  chart('throughput', xs, both(function (s) { return s.requests; }, 'req/s', COLORS.run), 'second', null, faults);
  chart('latency', xs, both(function (s) { return s.p50; }, 'p50', COLORS.run).concat(both(function (s) { return s.p99; }, 'p99', COLORS.p99)), 'second', null, faults);
  var failed = both(function (s) { return s.errors; }, 'errors', COLORS.errors);
  // the open model's requests due while every connection was busy, for each open-model run
  function dropped(result, label, color, dash) {
    return { label: label, color: color, dash: dash, values: pad(bySecond(result.series, function (s) { return s.dropped === undefined ? null : s.dropped; }), n) };
  }
  if (data.run.open) failed.push(dropped(run, 'dropped', COLORS.dropped));
  if (base && data.baseline.open) failed.push(dropped(base, 'dropped (baseline)', COLORS.baseline, [2, 3]));
  chart('errors', xs, failed, 'second', null, faults);

  // a publish load's events, or the jobs a load enqueued, end to end: what the consumers
  // made of the rate
  if (data.run && data.run.processed) {
    var processed = data.run.processed.series;
    var ex = seconds(processed.length);
    chart(data.run.processed.kind + '-latency', ex, [{ label: 'p99', color: COLORS.p99, values: bySecond(processed, function (s) { return s.p99; }) }], 'second', null, faults);
    chart('backlog', ex, [{ label: 'backlog', color: COLORS.run, values: bySecond(processed, function (s) { return s.backlog; }) }], 'second', null, faults);
  }

  // x in "nines" (90% → 1, 99% → 2, 99.9% → 3), so the tail gets the room it deserves
  var MAX_NINES = 5;
  function nines(percentile) {
    return percentile >= 100 ? MAX_NINES : Math.min(MAX_NINES, -Math.log10(1 - percentile / 100));
  }
  function percentLabel(value) {
    return value >= MAX_NINES ? 'max' : Number((100 - 100 / Math.pow(10, value)).toPrecision(5)) + '%';
  }
  var lines = [{ label: 'latency', color: COLORS.run, values: run.distribution.map(function (p) { return p.ms; }) }];
  if (base && base.distribution.length === run.distribution.length) {
    lines.push({ label: 'latency (baseline)', color: COLORS.baseline, dash: [6, 4], values: base.distribution.map(function (p) { return p.ms; }) });
  }
  chart('distribution', run.distribution.map(function (p) { return nines(p.percentile); }), lines, 'percentile', function (u, splits) {
    return splits.map(percentLabel);
  });
})();
