// Training: Train/Stop, progress, the learning curves (Chart.js), per-class accuracy and the
// confusion matrix of the validation samples.
import { nextStep } from "./next_step.js";
import { byActions, showNotice } from "./messages.js";
import { Chart, chartColours, chartOptions, referenceLine, titledAxis } from "./charts.js";
import { byTestId, el, enable, percent } from "./dom.js";

const OWN = byActions("train", "stopTraining", "changeSettings");
// The training status in a few words; the page's headline says what to do next.
const STATUS = {
  loading: "Not trained yet.",
  error: "Not trained.",
  collect: "Not trained yet.",
  fill: "Not trained yet.",
  retrain: "Trained, but the examples changed since: train again to include them.",
  try: "Trained.",
};
// Fewer held-back samples than this make a class's accuracy a matter of luck.
const FEW_HELD_BACK = 3;

function lineChart(canvas, title, yMax) {
  const { primary, text } = chartColours(canvas);
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: [],
      datasets: [
        { label: "training", data: [], borderColor: primary, backgroundColor: primary, pointRadius: 0 },
        referenceLine("validation"),
      ],
    },
    options: chartOptions(text, {
      x: titledAxis("epoch", text, { ticks: { maxTicksLimit: 10 } }),
      y: titledAxis(title, text, { min: 0, max: yMax }),
    }),
  });
}

function classNames(state) {
  const ids = state.headRecord?.classIds ?? state.dataset.classes.map((item) => item.id);
  return ids.map((id) => state.dataset.classById(id)?.name ?? "?");
}

function confusionTable(table, matrix, names) {
  const header = el(
    "tr",
    {},
    el("th", { scope: "col" }, "actual \\ predicted"),
    ...names.map((n) => el("th", { scope: "col" }, n)),
  );
  const rows = matrix.map((row, i) => {
    const total = row.reduce((sum, value) => sum + value, 0) || 1;
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, names[i]),
      ...row.map((value, j) => {
        const share = Math.round((value / total) * 100);
        const cell = el(
          "td",
          { "aria-label": `${value} ${names[i]} predicted as ${names[j]} (${share} % of the row)` },
          String(value),
        );
        cell.style.background = `color-mix(in srgb, var(--primary) ${share}%, transparent)`;
        if (share > 55) cell.style.color = "#fff";
        return cell;
      }),
    );
  });
  table.replaceChildren(
    el(
      "caption",
      {},
      "Held-back examples: each row is the actual class, each column what the model predicted.",
    ),
    header,
    ...rows,
  );
  table.dataset.classes = String(names.length);
}

function clear(table) {
  table.replaceChildren();
  table.dataset.classes = "0";
}

// Accuracy with its n, measured on the held-back samples only; a warning where too few were held back.
function evaluationTables(perClass, confusion, warning, state) {
  const { evaluation } = state.training;
  warning.hidden = true;
  if (!evaluation || !state.training.history.length) return [perClass, confusion].forEach(clear);
  if (!evaluation.count || evaluation.onValidation === false) {
    [perClass, confusion].forEach(clear);
    warning.hidden = false;
    warning.textContent =
      "No examples were held back for checking, so there is no honest accuracy to show. Add more " +
      "examples to each class, or hold back a larger share under Advanced settings.";
    return;
  }
  const names = classNames(state);
  const counts = evaluation.confusion.map((row) => row.reduce((sum, value) => sum + value, 0));
  perClass.replaceChildren(
    el(
      "caption",
      {},
      `Accuracy on ${evaluation.count} held-back examples: ${percent(evaluation.accuracy)} overall`,
    ),
    el(
      "tr",
      {},
      el("th", { scope: "col" }, "class"),
      el("th", { scope: "col" }, "accuracy"),
      el("th", { scope: "col" }, "n"),
    ),
    ...names.map((name, index) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, name),
        el("td", {}, percent(evaluation.perClass[index])),
        el("td", {}, String(counts[index])),
      ),
    ),
  );
  perClass.dataset.classes = String(names.length);
  confusionTable(confusion, evaluation.confusion, names);
  const few = names.filter((_, index) => counts[index] < FEW_HELD_BACK);
  if (few.length) {
    warning.hidden = false;
    warning.textContent =
      `Fewer than ${FEW_HELD_BACK} examples of ${few.map((name) => `"${name}"`).join(", ")} were held ` +
      "back for checking: their accuracy says little. Add more examples to measure it.";
  }
}

// On a regression page the tables are the regression view's (ui/regression.js); here only the
// warning when nothing was held back to measure on.
function regressionWarning(warning, state) {
  const { evaluation } = state.training;
  warning.hidden = !(evaluation && state.training.history.length && !evaluation.count);
  warning.textContent = warning.hidden
    ? ""
    : "No examples were held back for checking, so there is no honest error to show. Add more " +
      "examples, or hold back a larger share under Advanced settings.";
}

export function mountTraining(root, { state: initial, can, dispatch }) {
  const regression = Boolean(initial.regression);
  const trainButton = byTestId(root, "train");
  const stopButton = byTestId(root, "stop-training");
  const status = byTestId(root, "train-status");
  const progress = byTestId(root, "train-progress");
  const perClass = byTestId(root, "per-class-accuracy");
  const confusion = byTestId(root, "confusion-matrix");
  const warning = byTestId(root, "evaluation-warning");
  const message = byTestId(root, "training-message");
  let charts = null;
  trainButton.addEventListener("click", () => dispatch("train"));
  stopButton.addEventListener("click", () => dispatch("stopTraining"));

  // Made with the first epoch: a page that is not training yet draws no charts, and Chart.js's
  // setup (about 100 ms) stays out of the page's start.
  function renderCharts(history) {
    if (!charts && !history.length) {
      for (const id of ["chart-loss", regression ? "chart-error" : "chart-accuracy"])
        byTestId(root, id).dataset.points = "0";
      return;
    }
    charts ??= {
      loss: lineChart(byTestId(root, "chart-loss"), "loss", undefined),
      measure: regression
        ? lineChart(byTestId(root, "chart-error"), "mean absolute error", undefined)
        : lineChart(byTestId(root, "chart-accuracy"), "accuracy", 1),
    };
    const labels = history.map((entry) => entry.epoch);
    const series = {
      loss: [history.map((e) => e.loss), history.map((e) => e.valLoss)],
      measure: regression
        ? [history.map((e) => e.mae), history.map((e) => e.valMae)]
        : [history.map((e) => e.accuracy), history.map((e) => e.valAccuracy)],
    };
    for (const [name, chart] of Object.entries(charts)) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = series[name][0];
      chart.data.datasets[1].data = series[name][1];
      chart.update("none");
      chart.canvas.dataset.points = String(labels.length);
    }
  }

  return (state, previous) => {
    const { training } = state;
    enable(trainButton, can("train"));
    stopButton.disabled = training.state !== "training";
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OWN);
    const step = nextStep(state);
    status.dataset.state = training.state;
    status.dataset.step = step.step;
    status.textContent = STATUS[step.step] ?? step.text;
    if (training === previous?.training && state.headRecord === previous?.headRecord) return;
    progress.max = Math.max(training.epochs, 1);
    progress.value = training.epoch;
    renderCharts(training.history);
    if (regression) regressionWarning(warning, state);
    else evaluationTables(perClass, confusion, warning, state);
  };
}
