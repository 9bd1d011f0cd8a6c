// Draws the chart of a table marked data-chart="bar" (value per row) or data-chart="interval"
// (value with its 95% interval per row) into the box whose data-chart-for names the table.
// The table stays on the page: the chart is an addition, not the only way to read the figures
// (without JavaScript, or in print, the table alone is shown). A file, not an inline script: the
// CSP forbids inline scripts.
(function () {
  "use strict";

  function rowsOf(table) {
    var out = [];
    var rows = table.querySelectorAll("tbody tr[data-label]");
    for (var i = 0; i < rows.length; i++) {
      var d = rows[i].dataset;
      var value = parseFloat(d.value);
      if (isNaN(value)) continue;
      out.push({
        label: d.label,
        value: value,
        low: d.low ? parseFloat(d.low) : null,
        high: d.high ? parseFloat(d.high) : null,
      });
    }
    return out;
  }

  function draw(box) {
    var table = document.getElementById(box.dataset.chartFor);
    if (!table || typeof window.Chart === "undefined") return;
    var rows = rowsOf(table);
    if (!rows.length) return;
    var interval = table.dataset.chart === "interval" && typeof window.ChartErrorBars !== "undefined";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", box.dataset.chartTitle || "");
    box.appendChild(canvas);
    box.classList.add("drawn");
    var labels = rows.map(function (r) { return r.label; });
    var data = rows.map(function (r) {
      if (!interval) return r.value;
      return { y: r.value, yMin: r.low === null ? r.value : r.low, yMax: r.high === null ? r.value : r.high };
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false }, title: { display: true, text: box.dataset.chartTitle || "" } },
      scales: { y: { beginAtZero: true } },
    };
    new window.Chart(canvas, {
      type: interval ? window.ChartErrorBars.BarWithErrorBarsController.id : "bar",
      data: {
        labels: labels,
        datasets: [{
          label: box.dataset.chartTitle || "",
          data: data,
          backgroundColor: "rgba(155, 28, 28, 0.55)",
          borderColor: "#9b1c1c",
          borderWidth: 1,
          errorBarColor: "#1d2733",
          errorBarWhiskerColor: "#1d2733",
        }],
      },
      options: options,
    });
  }

  function start() {
    if (typeof window.ChartErrorBars !== "undefined" && typeof window.Chart !== "undefined") {
      window.Chart.register(
        window.ChartErrorBars.BarWithErrorBarsController,
        window.ChartErrorBars.BarWithErrorBar
      );
    }
    var boxes = document.querySelectorAll(".chart-box[data-chart-for]");
    for (var i = 0; i < boxes.length; i++) draw(boxes[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
