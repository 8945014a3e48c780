// Training: Train/Stop, progress, the learning curves (Chart.js), per-class accuracy and the
// confusion matrix of the validation samples.
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { byTestId, el, enable, percent } from "./dom.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const STATUS_TEXT = {
  idle: "Not trained yet.",
  training: "Training…",
  done: "Trained.",
  error: "Not trained: see the message above.",
};

function cssColor(root, name, fallback) {
  return getComputedStyle(root).getPropertyValue(name).trim() || fallback;
}

function lineChart(canvas, title, yMax) {
  const primary = cssColor(canvas, "--primary", "#1f6feb");
  const text = cssColor(canvas, "--text", "#1f2328");
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: [],
      datasets: [
        { label: "training", data: [], borderColor: primary, backgroundColor: primary, pointRadius: 0 },
        {
          label: "validation",
          data: [],
          borderColor: "#d1242f",
          backgroundColor: "#d1242f",
          borderDash: [6, 4],
          pointRadius: 0,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { title: { display: false }, legend: { labels: { color: text } } },
      scales: {
        x: {
          title: { display: true, text: "epoch", color: text },
          ticks: { color: text, maxTicksLimit: 10 },
        },
        y: { title: { display: true, text: title, color: text }, min: 0, max: yMax, ticks: { color: text } },
      },
    },
  });
}

function classNames(state) {
  const ids = state.headRecord?.classIds ?? state.dataset.classes.map((item) => item.id);
  return ids.map((id) => state.dataset.classById(id)?.name ?? "?");
}

function confusionTable(table, matrix, names, where) {
  const header = el(
    "tr",
    {},
    el("th", { scope: "col" }, "true \\ predicted"),
    ...names.map((n) => el("th", { scope: "col" }, n)),
  );
  const rows = matrix.map((row, i) => {
    const total = row.reduce((sum, value) => sum + value, 0) || 1;
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, names[i]),
      ...row.map((value) => {
        const share = Math.round((value / total) * 100);
        const cell = el("td", { "aria-label": `${value} (${share} % of this row)` }, String(value));
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
      `Confusion matrix on the ${where}: rows are the true classes, columns the predictions.`,
    ),
    header,
    ...rows,
  );
  table.dataset.classes = String(names.length);
}

function evaluationTables(perClass, confusion, state) {
  const { evaluation } = state.training;
  if (!evaluation) {
    perClass.replaceChildren();
    confusion.replaceChildren();
    perClass.dataset.classes = "0";
    confusion.dataset.classes = "0";
    return;
  }
  const names = state.training.history.length ? classNames(state) : [];
  const where = evaluation.onValidation ? "validation samples" : "training samples (no validation samples)";
  perClass.replaceChildren(
    el(
      "caption",
      {},
      `Accuracy per class on ${evaluation.count} ${where}: ${percent(evaluation.accuracy)} overall`,
    ),
    el("tr", {}, el("th", { scope: "col" }, "class"), el("th", { scope: "col" }, "accuracy")),
    ...names.map((name, index) =>
      el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, percent(evaluation.perClass[index]))),
    ),
  );
  perClass.dataset.classes = String(names.length);
  confusionTable(confusion, evaluation.confusion, names, where);
}

export function mountTraining(root, { can, dispatch }) {
  const trainButton = byTestId(root, "train");
  const stopButton = byTestId(root, "stop-training");
  const status = byTestId(root, "train-status");
  const progress = byTestId(root, "train-progress");
  const perClass = byTestId(root, "per-class-accuracy");
  const confusion = byTestId(root, "confusion-matrix");
  let charts = null;
  trainButton.addEventListener("click", () => dispatch("train"));
  stopButton.addEventListener("click", () => dispatch("stopTraining"));

  function renderCharts(history) {
    charts ??= {
      loss: lineChart(byTestId(root, "chart-loss"), "loss", undefined),
      accuracy: lineChart(byTestId(root, "chart-accuracy"), "accuracy", 1),
    };
    const labels = history.map((entry) => entry.epoch);
    const series = {
      loss: [history.map((e) => e.loss), history.map((e) => e.valLoss)],
      accuracy: [history.map((e) => e.accuracy), history.map((e) => e.valAccuracy)],
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
    if (training === previous?.training && state.dataset === previous?.dataset) return;
    status.dataset.state = training.state;
    let text = STATUS_TEXT[training.state];
    if (training.state === "training") text = `Training: epoch ${training.epoch} of ${training.epochs}.`;
    if (training.state === "idle" && training.stale) text = "The classes changed: train again.";
    status.textContent = text;
    progress.max = Math.max(training.epochs, 1);
    progress.value = training.epoch;
    renderCharts(training.history);
    evaluationTables(perClass, confusion, state);
  };
}
