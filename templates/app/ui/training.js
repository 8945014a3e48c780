// Training: the advanced settings, Train/Stop, progress, the learning curves (Chart.js), per-class
// accuracy and the confusion matrix of the validation samples.
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
import { byTestId, el, percent } from "./dom.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const STATUS_TEXT = {
  idle: "Not trained yet.",
  training: "Training…",
  done: "Trained.",
  error: "Not trained: see the message above.",
};

// Field name → [section, key, parse]; invalid input is refused by the app with a message.
const SETTINGS = {
  "head-type": ["head", "type", String],
  "hidden-units": [
    "head",
    "hidden_units",
    (text) =>
      text.trim()
        ? text
            .split(/[\s,]+/)
            .filter(Boolean)
            .map(Number)
        : [],
  ],
  activation: ["head", "activation", String],
  dropout: ["head", "dropout", Number],
  k: ["head", "k", Number],
  epochs: ["training", "epochs", Number],
  "batch-size": ["training", "batch_size", Number],
  "learning-rate": ["training", "learning_rate", Number],
  "validation-fraction": ["training", "validation_fraction", Number],
};

function cssColor(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function lineChart(canvas, title, yMax) {
  const primary = cssColor("--primary", "#1f6feb");
  const text = cssColor("--text", "#1f2328");
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

export class TrainingView {
  constructor(app) {
    this.app = app;
    this.trainButton = byTestId("train");
    this.stopButton = byTestId("stop-training");
    this.status = byTestId("train-status");
    this.progress = byTestId("train-progress");
    this.lossCanvas = byTestId("chart-loss");
    this.accuracyCanvas = byTestId("chart-accuracy");
    this.perClass = byTestId("per-class-accuracy");
    this.confusion = byTestId("confusion-matrix");
    this.charts = null;
    this.trainButton.addEventListener("click", () => app.train());
    this.stopButton.addEventListener("click", () => app.stopTraining());
    for (const [name, [section, key, parse]] of Object.entries(SETTINGS)) {
      const input = document.getElementById(`setting-${name}`);
      input.addEventListener("change", () => app.changeSettings(section, { [key]: parse(input.value) }));
    }
  }

  render(state, previous) {
    const { training } = state;
    if (state.settings !== previous?.settings) this.renderSettings(state.settings);
    this.trainButton.disabled = state.status !== "ready" || training.state === "training";
    this.stopButton.disabled = training.state !== "training";
    if (training === previous?.training && state.dataset === previous?.dataset) return;
    this.status.dataset.state = training.state;
    let text = STATUS_TEXT[training.state];
    if (training.state === "training") text = `Training: epoch ${training.epoch} of ${training.epochs}.`;
    if (training.state === "idle" && training.stale) text = "The classes changed: train again.";
    this.status.textContent = text;
    this.progress.max = Math.max(training.epochs, 1);
    this.progress.value = training.epoch;
    this.renderCharts(training.history);
    this.renderEvaluation(training.evaluation, state);
  }

  renderSettings(settings) {
    for (const [name, [section, key]] of Object.entries(SETTINGS)) {
      const input = document.getElementById(`setting-${name}`);
      const value = settings[section][key];
      const text = Array.isArray(value) ? value.join(", ") : String(value);
      if (input.value !== text) input.value = text;
    }
    const knn = settings.head.type === "knn";
    for (const element of document.querySelectorAll("[data-head]"))
      element.hidden = (element.dataset.head === "knn") !== knn;
  }

  renderCharts(history) {
    if (!this.charts) {
      this.charts = {
        loss: lineChart(this.lossCanvas, "loss", undefined),
        accuracy: lineChart(this.accuracyCanvas, "accuracy", 1),
      };
    }
    const labels = history.map((entry) => entry.epoch);
    const series = {
      loss: [history.map((e) => e.loss), history.map((e) => e.valLoss)],
      accuracy: [history.map((e) => e.accuracy), history.map((e) => e.valAccuracy)],
    };
    for (const [name, chart] of Object.entries(this.charts)) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = series[name][0];
      chart.data.datasets[1].data = series[name][1];
      chart.update("none");
      chart.canvas.dataset.points = String(labels.length);
    }
  }

  renderEvaluation(evaluation, state) {
    if (!evaluation) {
      this.perClass.replaceChildren();
      this.confusion.replaceChildren();
      this.perClass.dataset.classes = "0";
      this.confusion.dataset.classes = "0";
      return;
    }
    const names = state.training.history.length ? this.classNames(state) : [];
    const where = evaluation.onValidation ? "validation samples" : "training samples (no validation samples)";
    this.perClass.replaceChildren(
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
    this.perClass.dataset.classes = String(names.length);
    this.renderConfusion(evaluation.confusion, names, where);
  }

  classNames(state) {
    const ids = this.app.head?.classIds ?? state.dataset.classes.map((item) => item.id);
    return ids.map((id) => state.dataset.classById(id)?.name ?? "?");
  }

  renderConfusion(matrix, names, where) {
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
    this.confusion.replaceChildren(
      el(
        "caption",
        {},
        `Confusion matrix on the ${where}: rows are the true classes, columns the predictions.`,
      ),
      header,
      ...rows,
    );
    this.confusion.dataset.classes = String(names.length);
  }
}
