// The FinOps page: the daily chart (Chart.js, vendored) and sortable breakdown tables.
(function () {
  "use strict";

  function drawChart() {
    var source = document.getElementById("finops-chart-data");
    var canvas = document.getElementById("finops-chart");
    if (!source || !canvas || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var labels = data.labels.map(function (day) { return day.slice(8, 10).replace(/^0/, ""); });
    canvas.chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { label: "Credits spent", data: data.credits.map(Number), backgroundColor: "#3151d3" },
          { label: "Saved vs benchmark", data: data.savings.map(Number), backgroundColor: "#16a34a" },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "top", labels: { font: { size: 13 } } },
          tooltip: {
            callbacks: { title: function (items) { return data.labels[items[0].dataIndex]; } },
          },
        },
        scales: {
          x: { title: { display: true, text: "Day of month" }, grid: { display: false } },
          y: { beginAtZero: true, title: { display: true, text: "Credits" } },
        },
      },
    });
  }

  function sortBy(table, column, button) {
    var header = button.closest("th");
    var descending = header.getAttribute("aria-sort") !== "descending";
    var numeric = button.dataset.type !== "text";
    table.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (row) {
      return row.cells.length > column;
    });
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function makeSortable(table) {
    table.querySelectorAll("thead button.sort").forEach(function (button) {
      var column = button.closest("th").cellIndex;
      button.addEventListener("click", function () { sortBy(table, column, button); });
    });
  }

  drawChart();
  document.querySelectorAll("table.sortable").forEach(makeSortable);
})();
