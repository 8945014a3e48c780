// How well a regression head does on the held-back samples: MAE, RMSE and R² with their n, the
// predicted-versus-actual scatter and the residual plot (Chart.js).
import { formatValue } from "../learning/values.js";
import { Chart, chartColours, chartOptions, referenceLine, titledAxis } from "./charts.js";
import { byTestId, el } from "./dom.js";

// The held-back samples as points, and a reference line (the diagonal, or zero error).
function scatterChart(canvas, xTitle, yTitle, referenceLabel) {
  const { primary, text } = chartColours(canvas);
  return new Chart(canvas, {
    type: "scatter",
    data: {
      datasets: [
        { label: "held-back examples", data: [], borderColor: primary, backgroundColor: primary },
        { type: "line", ...referenceLine(referenceLabel) },
      ],
    },
    options: chartOptions(text, { x: titledAxis(xTitle, text), y: titledAxis(yTitle, text) }),
  });
}

function metricsTable(table, spec, evaluation) {
  const value = (number) => (number === null ? "–" : formatValue(spec, number));
  const rows = [
    ["Mean absolute error", value(evaluation.mae), "how far off a prediction typically is"],
    ["Root mean squared error", value(evaluation.rmse), "like the above, but large misses count more"],
    [
      "R²",
      evaluation.r2 === null ? "–" : evaluation.r2.toFixed(3),
      "1 is perfect; 0 is no better than always guessing the average",
    ],
  ];
  table.replaceChildren(
    el("caption", {}, `On ${evaluation.count} held-back examples`),
    ...rows.map(([name, shown, meaning]) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, name),
        el("td", {}, shown),
        el("td", { class: "hint" }, meaning),
      ),
    ),
  );
  table.dataset.count = String(evaluation.count);
}

export function mountRegressionEvaluation(root, { state }) {
  const spec = state.regression;
  const table = byTestId(root, "regression-metrics");
  const unit = spec.unit ? ` (${spec.unit})` : "";
  let charts = null;

  function plot(points) {
    charts ??= {
      scatter: scatterChart(
        byTestId(root, "chart-scatter"),
        `actual${unit}`,
        `predicted${unit}`,
        "exactly right",
      ),
      residuals: scatterChart(
        byTestId(root, "chart-residuals"),
        `actual${unit}`,
        `predicted − actual${unit}`,
        "no error",
      ),
    };
    const line = [
      { x: spec.min, y: spec.min },
      { x: spec.max, y: spec.max },
    ];
    charts.scatter.data.datasets[0].data = points.map((point) => ({ x: point.actual, y: point.predicted }));
    charts.scatter.data.datasets[1].data = points.length ? line : [];
    charts.residuals.data.datasets[0].data = points.map((point) => ({
      x: point.actual,
      y: point.predicted - point.actual,
    }));
    charts.residuals.data.datasets[1].data = points.length
      ? [
          { x: spec.min, y: 0 },
          { x: spec.max, y: 0 },
        ]
      : [];
    for (const chart of Object.values(charts)) {
      chart.update("none");
      chart.canvas.dataset.points = String(points.length);
    }
  }

  return (current, previous) => {
    if (current.training === previous?.training) return;
    const { evaluation } = current.training;
    const measured = evaluation?.task === "regression" && evaluation.count > 0;
    root.hidden = !measured;
    if (!measured) {
      table.replaceChildren();
      table.dataset.count = "0";
      if (charts) plot([]);
      return;
    }
    metricsTable(table, spec, evaluation);
    plot(evaluation.points);
  };
}
