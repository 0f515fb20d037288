// Draws the charts of an mcaspec bench report with uPlot. The data (one
// entry per chart, series aligned on the chart's x values) is the JSON in
// #bench-data, written by bench.(*Report).WriteHTML. window.benchCharts
// lists what was drawn (read by the browser test).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("bench-data").textContent);
  var fmt = function (v) {
    if (v == null) return "—";
    var a = Math.abs(v);
    if (a >= 1000) return Math.round(v).toLocaleString("en");
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(2);
  };
  var withUnit = function (v, unit) {
    if (v == null) return "—";
    return unit === "/s" || unit === "s" ? fmt(v) + unit : fmt(v) + " " + unit;
  };
  window.benchCharts = [];
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) throw new Error("bench report: no element for chart " + c.id);
    var tickLabel = function (v) {
      for (var i = 0; i < (c.xTicks || []).length; i++) {
        if (Math.abs(c.xTicks[i].v - v) < 1e-9) return c.xTicks[i].label;
      }
      return "";
    };
    var xValue = function (u, v) {
      if (v == null) return "—";
      if (c.kind === "percentiles") return "p" + (100 - 100 * Math.pow(10, -v)).toPrecision(6).replace(/\.?0+$/, "");
      return withUnit(v, c.xUnit);
    };
    var series = [{ label: c.xLabel, value: xValue }];
    var aligned = [c.x];
    c.series.forEach(function (s) {
      series.push({
        label: s.label,
        stroke: s.color,
        fill: undefined,
        width: s.dash ? 1 : 2,
        dash: s.dash ? [6, 4] : undefined,
        spanGaps: true,
        points: { show: c.points && !s.dash, size: 6, fill: s.color },
        value: function (u, v) { return withUnit(v, s.unit); },
      });
      aligned.push(s.values);
    });
    // What the axes show (drawn on the canvas) is kept for the browser test.
    var drawn = { xLabel: "", yLabel: "", xTicks: [], yTicks: [] };
    var xAxis = {
      label: c.xLabel + (c.xUnit && !c.xTicks ? " (" + c.xUnit.replace(/^\//, "req/") + ")" : ""),
      values: function (u, splits) {
        drawn.xTicks = splits.map(function (v) { return c.xTicks ? tickLabel(v) : withUnit(v, c.xUnit); });
        return drawn.xTicks;
      },
    };
    drawn.xLabel = xAxis.label;
    if (c.xTicks) {
      xAxis.splits = function () { return c.xTicks.map(function (t) { return t.v; }); };
    }
    var width = Math.max(480, Math.min(960, (el.clientWidth || 960)));
    var u = new uPlot({
      title: c.title,
      width: width,
      height: 300,
      series: series,
      scales: {
        x: { time: false, range: c.xTicks ? function (u, min, max) { return [Math.min(min, c.xTicks[0].v), Math.max(max, c.xTicks[c.xTicks.length - 1].v)]; } : undefined },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } },
      },
      axes: [xAxis, {
        label: (drawn.yLabel = c.yLabel + " (" + c.yUnit.replace(/^\//, "per s") + ")"),
        size: 70,
        values: function (u, splits) {
          drawn.yTicks = splits.map(function (v) { return withUnit(v, c.yUnit); });
          return drawn.yTicks;
        },
      }],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
    }, aligned, el);
    window.benchCharts.push({
      id: c.id,
      kind: c.kind,
      scenario: c.scenario,
      title: c.title,
      targets: c.series.filter(function (s) { return s.target; }).map(function (s) { return s.target; }),
      colors: c.series.filter(function (s) { return s.target; }).map(function (s) { return s.color; }),
      drawnSeries: u.series.length - 1,
      axes: drawn,
    });
  });
})();
