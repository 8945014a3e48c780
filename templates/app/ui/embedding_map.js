// "Map of the examples": every sample as a point in its class's colour (hollow when held back for
// checking), the current image as a cross that follows each prediction, a thumbnail on hover or
// when a point is chosen with the arrow keys, the button that refines the map with UMAP, and the
// same map as a table (each class's centre and its number of points).
import { Chart, Legend, LinearScale, PointElement, ScatterController, Tooltip } from "chart.js";
import { currentUmap, mapCurrent, mapPoints, nearestCentre, shownMethod } from "../features/embedding_map.js";
import { centres } from "../learning/projection.js";
import { byActions, showNotice } from "./messages.js";
import { chartColours, chartOptions } from "./charts.js";
import { byTestId, cssColor, el, enable } from "./dom.js";

Chart.register(ScatterController, PointElement, LinearScale, Legend, Tooltip);

const OWN = byActions("chooseMapMethod", "showEmbeddingMap");
// Distinct on white and for most colour vision (Okabe–Ito, then Tableau); repeats past 12 classes.
const COLOURS = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#e69f00",
  "#56b4e9",
  "#7f7f7f",
  "#8c564b",
  "#9467bd",
  "#bcbd22",
  "#17becf",
  "#1f2328",
];
const NAMES = { pca: "PCA", umap: "UMAP" };

function round(value) {
  return (Math.round(value * 100) / 100).toFixed(2);
}

function scatterChart(canvas, external) {
  const { text } = chartColours(canvas);
  const unlabelled = () => ({ ticks: { display: false }, grid: { color: "rgb(128 128 128 / 20%)" } });
  return new Chart(canvas, {
    type: "scatter",
    data: { datasets: [] },
    options: chartOptions(
      text,
      { x: unlabelled(), y: unlabelled() },
      {
        legend: {
          usePointStyle: true,
          boxWidth: 8,
          // One filled circle per class (its points' styles vary), the cross for the current image.
          generateLabels: (chart) =>
            Chart.defaults.plugins.legend.labels.generateLabels(chart).map((label) => {
              const dataset = chart.data.datasets[label.datasetIndex];
              const style = dataset.legendStyle ?? "circle";
              return {
                ...label,
                pointStyle: style,
                fillStyle: dataset.borderColor,
                strokeStyle: dataset.borderColor,
              };
            }),
          sort: (a, b) => a.datasetIndex - b.datasetIndex,
        },
        plugins: { tooltip: { enabled: false, external } },
      },
    ),
  });
}

export function mountEmbeddingMap(root, { can, dispatch }, thumbnails) {
  const panel = root;
  const refine = byTestId(root, "embedding-map-refine");
  const progress = byTestId(root, "embedding-map-progress");
  const message = byTestId(root, "embedding-map-message");
  const canvas = byTestId(root, "embedding-map");
  const tip = byTestId(root, "embedding-map-tip");
  const tipImage = tip.querySelector("img");
  const tipCaption = tip.querySelector("figcaption");
  const table = byTestId(root, "embedding-map-table");
  const summary = byTestId(root, "embedding-map-summary");
  let chart = null;
  let latest = null;
  let shownPoints = null; // the points drawn: flat, in the order the arrow keys visit them
  let chosen = -1;

  function showTip(point, x, y) {
    const sample = latest.dataset.samples.find((item) => item.id === point?.sampleId);
    if (!sample) {
      tip.hidden = true;
      return;
    }
    tipImage.src = thumbnails.url(sample);
    tipImage.alt = `An example of ${point.className}`;
    tipCaption.textContent = `${point.className}${point.heldOut ? " (held back)" : ""}`;
    tip.hidden = false;
    // Inside the map's box, whatever its width (a phone): never past its right edge.
    const box = canvas.parentElement.clientWidth;
    tip.style.left = `${Math.max(0, Math.min(x + 8, box - tip.offsetWidth))}px`;
    tip.style.top = `${Math.max(0, y - tip.offsetHeight - 8)}px`;
  }

  function external({ tooltip }) {
    const item = tooltip.opacity ? tooltip.dataPoints?.[0] : null;
    if (!item || !item.raw?.sampleId) {
      tip.hidden = true;
      return;
    }
    showTip(item.raw, tooltip.caretX, tooltip.caretY);
  }

  // Arrow keys walk the points (a thumbnail each); Escape hides it.
  canvas.addEventListener("keydown", (event) => {
    if (!chart || !shownPoints?.length) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (event.key === "Escape") {
      chosen = -1;
      chart.setActiveElements([]);
      chart.tooltip.setActiveElements([], { x: 0, y: 0 });
      chart.update("none");
      tip.hidden = true;
      return;
    }
    if (!step) return;
    event.preventDefault();
    chosen = (chosen + step + shownPoints.length) % shownPoints.length;
    const { datasetIndex, index } = shownPoints[chosen];
    const element = chart.getDatasetMeta(datasetIndex).data[index];
    chart.setActiveElements([{ datasetIndex, index }]);
    chart.tooltip.setActiveElements([{ datasetIndex, index }], { x: element.x, y: element.y });
    chart.update("none");
  });
  canvas.addEventListener("blur", () => (tip.hidden = true));
  panel.addEventListener("toggle", () => dispatch("showEmbeddingMap", [panel.open]));
  refine.addEventListener("click", () => {
    const method = shownMethod(latest) === "umap" ? "pca" : "umap";
    dispatch("chooseMapMethod", [method]);
  });

  function drawPoints(state, method, points) {
    chart ??= scatterChart(canvas, external);
    const background = cssColor(canvas, "--background", "#ffffff");
    const classes = state.dataset.classes;
    shownPoints = [];
    chart.data.datasets = classes.map((item, datasetIndex) => {
      const colour = COLOURS[datasetIndex % COLOURS.length];
      const own = points.filter((point) => point.classId === item.id);
      own.forEach((_, index) => shownPoints.push({ datasetIndex, index }));
      return {
        label: item.name,
        data: own,
        borderColor: colour,
        backgroundColor: own.map((point) => (point.heldOut ? background : colour)),
        pointStyle: own.map((point) => (point.heldOut ? "triangle" : "circle")),
        pointRadius: own.map((point) => (point.heldOut ? 5 : 4)),
        pointBorderWidth: 2,
        pointHoverRadius: 7,
      };
    });
    chart.data.datasets.push({
      label: "Current image",
      data: [],
      borderColor: cssColor(canvas, "--text", "#1f2328"),
      backgroundColor: cssColor(canvas, "--text", "#1f2328"),
      pointStyle: "crossRot",
      legendStyle: "crossRot",
      pointRadius: 12,
      pointBorderWidth: 4,
      pointHoverRadius: 12,
      order: -1, // drawn over the samples
    });
    chosen = -1;
    canvas.dataset.method = method;
    canvas.dataset.points = String(points.length);
    canvas.setAttribute(
      "aria-label",
      `Map of the ${points.length} examples (${NAMES[method]}): each class's examples in its own colour. ` +
        "Arrow keys show them one by one; the table below lists each class's centre.",
    );
    return points;
  }

  function drawTable(state, method, points, current) {
    const where = centres(points, (point) => point.classId);
    const nearest = nearestCentre(points, current);
    summary.textContent = current
      ? `The current image is nearest the centre of ${nearest?.className ?? "no class"}.`
      : "No current image: choose one, or predict live from the camera.";
    table.replaceChildren(
      el("caption", {}, `Each class on the map (${NAMES[method]}): its centre and its points.`),
      el(
        "tr",
        {},
        el("th", { scope: "col" }, "class"),
        el("th", { scope: "col" }, "points"),
        el("th", { scope: "col" }, "held back"),
        el("th", { scope: "col" }, "centre (x, y)"),
      ),
      ...state.dataset.classes.map((item) => {
        const own = points.filter((point) => point.classId === item.id);
        const centre = where.get(item.id);
        return el(
          "tr",
          { dataset: { className: item.name } },
          el("th", { scope: "row" }, item.name),
          el("td", {}, String(own.length)),
          el("td", {}, String(own.filter((point) => point.heldOut).length)),
          el("td", {}, centre ? `${round(centre[0])}, ${round(centre[1])}` : "–"),
        );
      }),
    );
    table.dataset.classes = String(state.dataset.classes.length);
  }

  function drawCurrent(state, method, points) {
    const current = mapCurrent(state, method);
    const marker = chart.data.datasets.at(-1);
    marker.data = current ? [current] : [];
    chart.update("none");
    const nearest = nearestCentre(points, current);
    canvas.dataset.currentX = current ? String(current.x) : "";
    canvas.dataset.currentY = current ? String(current.y) : "";
    canvas.dataset.currentClass = nearest?.className ?? "";
    canvas.dataset.count = String(state.predictionCount);
    drawTable(state, method, points, current);
  }

  let drawnPrediction; // the prediction the current image's marker shows
  let drawn = null; // what the points were drawn from: {method, pca, umap, dataset, settings, points}
  return (state, previous) => {
    latest = state;
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OWN);
    const map = state.embeddingMap;
    const method = shownMethod(state);
    const running = map.running;
    enable(refine, method === "umap" ? null : can("chooseMapMethod", "umap"));
    refine.textContent = running
      ? "Refining…"
      : method === "umap"
        ? "Back to PCA"
        : currentUmap(state)
          ? "Show the UMAP map"
          : "Refine with UMAP";
    progress.hidden = !running;
    if (running) progress.value = running.epochs ? running.epoch / running.epochs : 0;
    panel.dataset.umap = running ? "running" : currentUmap(state) ? "done" : "none";
    if (!map.open) return;
    const from = { method, pca: map.pca, umap: map.umap, dataset: state.dataset, settings: state.settings };
    const pointsChanged = !drawn || Object.keys(from).some((key) => from[key] !== drawn[key]);
    // A map not computed yet for these samples (the PCA follows at once): the old one stays till then.
    const points = pointsChanged ? mapPoints(state, method) : null;
    if (points) drawn = { ...from, points: drawPoints(state, method, points) };
    if (!drawn) return;
    if (points || state.prediction !== drawnPrediction) drawCurrent(state, method, drawn.points);
    drawnPrediction = state.prediction;
  };
}
