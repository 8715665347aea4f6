// Dashboard charts: each <canvas data-chart="ID"> is drawn from the JSON in <script id="ID">
// (json_script), so no inline script is needed. Done improvements show as dashed lines.
(function () {
  "use strict";
  var COLOURS = ["#2563eb", "#f59e0b", "#16a34a", "#7c3aed", "#dc2626", "#0891b2", "#db2777"];
  var SIGNAL = "#dc2626";
  var MARKER = "rgba(22, 163, 74, 0.85)";

  function dateLabel(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  // Vertical dashed lines where an improvement was done: {x: ms} on a time axis,
  // {index: n} on a week axis.
  var markerPlugin = {
    id: "wbMarkers",
    afterDatasetsDraw: function (chart, args, options) {
      var markers = (options && options.markers) || [];
      if (!markers.length) return;
      var scale = chart.scales.x;
      var area = chart.chartArea;
      var ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = MARKER;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 4]);
      markers.forEach(function (marker) {
        var x = scale.getPixelForValue(marker.x !== undefined ? marker.x : marker.index);
        if (x < area.left || x > area.right) return;
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
      });
      ctx.restore();
    },
  };

  function baseOptions(spec) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "nearest", intersect: false },
      plugins: {
        legend: { display: true, position: "bottom", labels: { boxWidth: 12 } },
        wbMarkers: { markers: spec.markers || [] },
      },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } },
        y: {
          beginAtZero: true,
          ticks: spec.integer ? { precision: 0 } : {},
          title: { display: !!spec.y_title, text: spec.y_title || "" },
        },
      },
    };
  }

  function barConfig(spec) {
    var options = baseOptions(spec);
    var datasets = spec.datasets.map(function (set, i) {
      var colour = set.colour || COLOURS[i % COLOURS.length];
      return { label: set.label, data: set.data, backgroundColor: colour, borderColor: colour };
    });
    if (spec.limits && spec.limits.some(function (limit) { return limit !== null; })) {
      datasets.push({
        type: "line",
        label: "WIP limit",
        data: spec.limits,
        showLine: false,
        pointStyle: "line",
        pointRadius: 18,
        pointHoverRadius: 18,
        borderWidth: 3,
        borderColor: SIGNAL,
        backgroundColor: SIGNAL,
        // In front of the bars (a lower order draws later) and never clipped at the top.
        order: -1,
        clip: false,
      });
      // Room above the highest limit, so its marker is not cut in half by the chart's edge.
      options.scales.y.grace = "8%";
    }
    if (spec.horizontal) {
      options.indexAxis = "y";
      options.scales = {
        x: { beginAtZero: true, title: { display: true, text: spec.y_title || "" } },
        y: { ticks: { autoSkip: false } },
      };
    }
    if (spec.y_max) options.scales.y.max = spec.y_max;
    return { type: "bar", data: { labels: spec.labels, datasets: datasets }, options: options };
  }

  function lineConfig(spec) {
    var options = baseOptions(spec);
    var datasets = spec.datasets.map(function (set, i) {
      var colour = set.colour || COLOURS[i % COLOURS.length];
      return {
        label: set.label,
        data: set.data,
        borderColor: colour,
        backgroundColor: colour,
        stepped: spec.stepped ? "after" : false,
        pointRadius: 2,
      };
    });
    return { type: "line", data: { labels: spec.labels, datasets: datasets }, options: options };
  }

  function stackedAreaConfig(spec) {
    var options = baseOptions(spec);
    options.scales.y.stacked = true;
    var datasets = spec.datasets.map(function (set, i) {
      var colour = set.colour || COLOURS[i % COLOURS.length];
      return {
        label: set.label,
        data: set.data,
        borderColor: colour,
        backgroundColor: colour,
        fill: i === 0 ? "origin" : "-1",
        pointRadius: 0,
        borderWidth: 1,
      };
    });
    return { type: "line", data: { labels: spec.labels, datasets: datasets }, options: options };
  }

  function xmrConfig(spec) {
    var options = baseOptions(spec);
    options.scales.x = {
      type: "linear",
      min: spec.span[0],
      max: spec.span[1],
      ticks: { maxRotation: 0, autoSkipPadding: 16, callback: dateLabel },
    };
    options.plugins.tooltip = {
      callbacks: {
        title: function (items) {
          return items.length ? dateLabel(items[0].parsed.x) : "";
        },
      },
    };
    var points = spec.datasets[0].points;
    var datasets = [
      {
        label: spec.datasets[0].label,
        data: points.map(function (p) { return { x: p.x, y: p.y }; }),
        borderColor: "#64748b",
        borderWidth: 1,
        pointRadius: 3,
        pointBackgroundColor: points.map(function (p) { return p.signal ? SIGNAL : "#2563eb"; }),
        pointBorderColor: points.map(function (p) { return p.signal ? SIGNAL : "#2563eb"; }),
      },
    ];
    spec.lines.forEach(function (line) {
      datasets.push({
        label: line.label + " " + line.y,
        data: [{ x: spec.span[0], y: line.y }, { x: spec.span[1], y: line.y }],
        borderColor: line.dash ? "#b45309" : "#111827",
        borderDash: line.dash ? [6, 4] : [],
        borderWidth: 1.5,
        pointRadius: 0,
        pointHoverRadius: 0,
      });
    });
    return { type: "line", data: { datasets: datasets }, options: options };
  }

  var BUILDERS = {
    bar: barConfig,
    line: lineConfig,
    "stacked-area": stackedAreaConfig,
    xmr: xmrConfig,
  };

  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var builder = BUILDERS[spec.kind];
      if (!builder) return;
      var config = builder(spec);
      config.plugins = [markerPlugin];
      canvas.dataset.drawn = "true";
      new window.Chart(canvas, config);
    });
  }

  draw(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.target);
  });
})();
