// "Why?" in Try it: a heatmap over the picture the model classified (a file or the live camera)
// showing where the evidence for a class is, and a test that hides one part of the picture at a
// time. Two roots: the overlay sits on the picture (the prediction view's), the controls, legend
// and sentence sit under the answer. The explain feature owns the slice they draw: `explain`.
//
// The picture is shown as an 8rem square with object-fit: cover, which is exactly the model's
// centre-square crop, so the canvas covers that square and nothing needs measuring.
import { byTestId, el, enable } from "./dom.js";

// Inferno's colours at five even steps (matplotlib): dark for the weakest evidence, bright yellow
// for the strongest; readable in greyscale and for the common colour-vision deficiencies.
const STOPS = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];
// Pixels per cell of the canvas: squares at any grid, scaled by CSS to the picture.
const CELL = 32;

export function colourAt(share) {
  const t = Math.max(0, Math.min(1, share)) * (STOPS.length - 1);
  const low = Math.min(STOPS.length - 2, Math.floor(t));
  const mix = t - low;
  return STOPS[low].map((value, channel) => Math.round(value + (STOPS[low + 1][channel] - value) * mix));
}

// The map's own range over the cells measured so far (an occlusion test fills them one by one).
function range(values) {
  let lowest = Infinity;
  let highest = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    lowest = Math.min(lowest, value);
    highest = Math.max(highest, value);
  }
  return { lowest, highest };
}

function drawMap(canvas, result, patch) {
  const { rows, cols, values } = result ?? { rows: 0, cols: 0, values: [] };
  const size = Math.max(rows, cols, 7) * CELL;
  if (canvas.width !== size) canvas.width = size;
  if (canvas.height !== size) canvas.height = size;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, size, size);
  const { lowest, highest } = range(values);
  const spread = highest - lowest;
  const width = size / Math.max(cols, 1);
  const height = size / Math.max(rows, 1);
  values.forEach((value, index) => {
    if (!Number.isFinite(value)) return; // not measured yet: the picture shows through
    const share = spread > 0 ? (value - lowest) / spread : 0.5;
    const [red, green, blue] = colourAt(share);
    // Weak evidence lets more of the picture through, so what the model looked at stays visible.
    context.fillStyle = `rgba(${red}, ${green}, ${blue}, ${(0.35 + 0.4 * share).toFixed(3)})`;
    context.fillRect((index % cols) * width, Math.floor(index / cols) * height, width, height);
  });
  if (patch) {
    const scale = size / patch.size;
    context.fillStyle = "rgb(128, 128, 128)"; // the grey the model was shown (learning/explain.js)
    context.fillRect(patch.left * scale, patch.top * scale, patch.width * scale, patch.height * scale);
    context.strokeStyle = "#fff";
    context.lineWidth = 2;
    context.strokeRect(patch.left * scale, patch.top * scale, patch.width * scale, patch.height * scale);
  }
}

// The result that belongs to the picture on screen: a live frame's while live prediction runs, the
// classified image's otherwise.
function currentResult(state) {
  const { result, occlusion } = state.explain;
  if (!result) return null;
  // While an occlusion test runs, only the map it is filling belongs on the frozen picture.
  if (occlusion.running) return null;
  return (result.source === "live") === Boolean(state.live) ? result : null;
}

// The overlay on the picture, under `[data-view="explain-heatmap"]` in the prediction input.
export function mountExplainHeatmap(root, { state: initial }) {
  const canvas = byTestId(root, "explain-heatmap");
  if (!initial.explain) {
    root.hidden = true; // a page without the explain feature
    return () => {};
  }
  return (state, previous) => {
    const { explain } = state;
    if (
      explain === previous?.explain &&
      state.live === previous?.live &&
      state.prediction === previous?.prediction
    )
      return;
    const running = explain.occlusion.running;
    const result = currentResult(state);
    const shown = running || Boolean(explain.show && result && state.prediction);
    root.hidden = !shown;
    canvas.dataset.class =
      result?.className ?? (running ? (explain.className ?? state.prediction?.label) : "") ?? "";
    canvas.dataset.method = running ? "occlusion" : (result?.method ?? "");
    const grid = running ? explain.occlusion : result;
    canvas.dataset.rows = String(grid?.rows ?? 0);
    canvas.dataset.cols = String(grid?.cols ?? 0);
    canvas.dataset.source = result?.source ?? "";
    canvas.dataset.running = String(running);
    const patch = running ? explain.occlusion.patch : null;
    canvas.dataset.patch = patch ? `${patch.row},${patch.col}` : "";
    canvas.setAttribute("aria-label", result ? sentenceOf(result) : "The heatmap is being measured.");
    // An occlusion test draws its drops as they come in, under the moving patch.
    const { rows, cols, drops } = explain.occlusion;
    if (shown) drawMap(canvas, running && drops ? { rows, cols, values: drops } : result, patch);
  };
}

function sentenceOf(result) {
  const named = result.className ?? "a larger number"; // a regression head has no class
  const lead =
    result.method === "occlusion"
      ? `Warmer squares are the parts whose hiding lowered the score for ${named} most.`
      : `Warmer squares pushed the answer towards ${named}.`;
  return [lead, `${result.rows} × ${result.cols} regions.`, result.sentence].filter(Boolean).join(" ");
}

function drawLegend(canvas) {
  const context = canvas.getContext("2d");
  for (let x = 0; x < canvas.width; x += 1) {
    const [red, green, blue] = colourAt(x / (canvas.width - 1));
    context.fillStyle = `rgb(${red}, ${green}, ${blue})`;
    context.fillRect(x, 0, 1, canvas.height);
  }
}

// The class names the model answers with: the latest answer's (an opened model's own), else the
// project's classes.
function classNames(state) {
  const scores = state.prediction?.scores;
  if (scores?.length && state.prediction.value === undefined) return scores.map((score) => score.name);
  return state.dataset.classes.map((item) => item.name);
}

// The controls, legend and sentence, under `[data-view="explain"]`.
export function mountExplain(root, { state: initial, can, dispatch }) {
  if (!initial.explain) {
    root.hidden = true; // a page without the explain feature
    return () => {};
  }
  const toggle = byTestId(root, "explain-toggle");
  const picker = byTestId(root, "explain-class");
  const occlude = byTestId(root, "explain-occlusion");
  const stop = byTestId(root, "explain-stop");
  const progress = byTestId(root, "explain-progress");
  const legend = byTestId(root, "explain-legend");
  const legendText = byTestId(root, "explain-legend-text");
  const sentence = byTestId(root, "explain-sentence");
  const regression = Boolean(initial.regression);
  picker.closest("label").hidden = regression;
  drawLegend(byTestId(root, "explain-scale"));
  let shown = false;
  let names = [];
  toggle.addEventListener("click", () => dispatch("setExplainShown", [!shown], { source: "ui" }));
  picker.addEventListener("change", () =>
    dispatch("setExplainClass", [picker.value || null], { source: "ui" }),
  );
  occlude.addEventListener("click", async () => {
    if (!shown) await dispatch("setExplainShown", [true], { source: "ui" });
    dispatch("startOcclusion", [], { source: "ui" });
  });
  stop.addEventListener("click", () => dispatch("stopOcclusion", [], { source: "ui" }));

  function showPicker(state) {
    const current = classNames(state);
    const answer = state.prediction?.label;
    const first = answer ? `${answer} (the answer)` : "the answer";
    if (current.join("\n") !== names.join("\n") || picker.options[0]?.textContent !== first) {
      names = current;
      picker.replaceChildren(
        el("option", { value: "" }, first),
        ...names.map((name) => el("option", { value: name }, name)),
      );
    }
    picker.value = state.explain.className ?? "";
  }

  return (state, previous) => {
    const { explain } = state;
    const { occlusion } = explain;
    shown = explain.show;
    enable(toggle, can("setExplainShown", !shown));
    toggle.textContent = shown ? "Hide where it looked" : "Show where it looked";
    toggle.setAttribute("aria-pressed", String(shown));
    if (!regression) {
      enable(picker, can("setExplainClass", explain.className));
      showPicker(state);
    }
    occlude.hidden = occlusion.running;
    stop.hidden = !occlusion.running;
    if (!occlusion.running) enable(occlude, can("startOcclusion"));
    enable(stop, occlusion.running ? can("stopOcclusion") : null);
    // Not a live region: a part every few milliseconds would drown a screen reader; the sentence
    // at the end is announced.
    progress.textContent = !occlusion.running
      ? ""
      : occlusion.total
        ? `Hiding part ${Math.min(occlusion.done + 1, occlusion.total)} of ${occlusion.total}…`
        : "Getting ready to hide parts…";
    if (
      explain === previous?.explain &&
      state.live === previous?.live &&
      state.prediction === previous?.prediction
    )
      return;
    const result = currentResult(state);
    const visible = Boolean((shown || occlusion.running) && result);
    legend.hidden = !visible;
    if (result)
      legendText.textContent =
        result.method === "occlusion"
          ? "Colours are scaled to this test's own range: bright squares lowered the score most when hidden, dark ones least."
          : "Colours are scaled to this map's own range: bright squares hold the most evidence, dark ones the least. Compare squares with each other.";
    // Each live frame brings a new map: announcing every one would drown a screen reader.
    sentence.setAttribute("aria-live", result?.source === "live" ? "off" : "polite");
    const text = visible && !occlusion.running ? sentenceOf(result) : "";
    if (sentence.textContent !== text) sentence.textContent = text;
    sentence.hidden = !text;
  };
}
