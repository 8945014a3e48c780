// "Try it": the camera live or an uploaded image, shown beside the answer; a confidence bar per
// class, a plain warning when the nearest samples are too unlike the image, and the nearest
// training samples, which show why the model decided as it did.
import { nextStep } from "./next_step.js";
import { byActions, showNotice } from "./messages.js";
import { formatValue } from "../learning/values.js";
import { byTestId, chooseFiles, el, enable, percent } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

// A half-circle gauge from the slider's min to its max; the number itself is written under it,
// since a prediction can fall outside the range the samples had.
function mountGauge(root, spec) {
  const arc = "M 10 50 A 40 40 0 0 1 90 50";
  const track = svg("path", { d: arc, class: "gauge-track", pathLength: 100 });
  const fill = svg("path", { d: arc, class: "gauge-fill", pathLength: 100, "stroke-dasharray": "0 100" });
  const text = el("p", { class: "gauge-value" });
  const picture = svg("svg", { viewBox: "0 0 100 56", "aria-hidden": "true" });
  picture.append(track, fill);
  root.replaceChildren(picture, text);
  root.setAttribute("aria-valuemin", String(spec.min));
  root.setAttribute("aria-valuemax", String(spec.max));
  return (value) => {
    root.hidden = value === null;
    if (value === null) return;
    const share = Math.max(0, Math.min(1, (value - spec.min) / (spec.max - spec.min)));
    fill.setAttribute("stroke-dasharray", `${(share * 100).toFixed(2)} 100`);
    text.textContent = formatValue(spec, value);
    root.setAttribute("aria-valuenow", String(Math.max(spec.min, Math.min(spec.max, value))));
    root.setAttribute("aria-valuetext", text.textContent);
    root.dataset.value = String(value);
  };
}

const OWN = byActions("predict", "startLive", "stopLive", "startCamera", "stopCamera");

export function mountPrediction(root, { state: initial, can, dispatch }, thumbnails) {
  const spec = initial.regression;
  const upload = byTestId(root, "predict-upload");
  const choose = byTestId(root, "predict-choose");
  const liveToggle = byTestId(root, "live-toggle");
  const output = byTestId(root, "prediction");
  const video = byTestId(root, "video");
  const picture = byTestId(root, "predicted-image");
  const label = byTestId(root, "prediction-label");
  const unsure = byTestId(root, "prediction-unsure");
  const bars = byTestId(root, "prediction-bars");
  const neighbors = byTestId(root, "neighbors");
  const fps = byTestId(root, "live-fps");
  const message = byTestId(root, "prediction-message");
  const showGauge = spec ? mountGauge(byTestId(root, "prediction-gauge"), spec) : () => {};
  let live = false;
  let shownImage = null;
  chooseFiles(choose, upload, ([file]) => dispatch("predict", [file]));
  liveToggle.addEventListener("click", () => dispatch(live ? "stopLive" : "startLive"));

  // The camera's picture, or the image just classified (until live prediction starts again).
  function showInput(state) {
    const { stream } = state.camera;
    const image = state.live ? null : (state.prediction?.image ?? null);
    if (video.srcObject !== stream) video.srcObject = stream;
    if (stream) video.play().catch(() => {});
    video.hidden = !stream || Boolean(image);
    if (image !== shownImage) {
      if (shownImage) URL.revokeObjectURL(picture.src);
      if (image) picture.src = URL.createObjectURL(image);
      else picture.removeAttribute("src");
      shownImage = image;
    }
    picture.hidden = !image;
  }

  function showResult(state) {
    const { prediction } = state;
    output.dataset.count = String(state.predictionCount);
    if (!prediction) {
      output.dataset.label = "";
      output.dataset.confidence = "";
      output.dataset.sure = "";
      const step = nextStep(state).step;
      label.textContent =
        state.openedModel || ["try", "retrain"].includes(step)
          ? "Show the camera an example or choose an image."
          : "Train the model first.";
      unsure.hidden = true;
      bars.replaceChildren();
      neighbors.replaceChildren();
      showGauge(null);
      delete output.dataset.value;
      return;
    }
    const number = prediction.value !== undefined;
    if (number) output.dataset.value = String(prediction.value);
    showGauge(number ? prediction.value : null);
    output.dataset.label = prediction.label;
    output.dataset.confidence = number ? "" : prediction.confidence.toFixed(4);
    output.dataset.sure = String(prediction.sure);
    label.textContent = number
      ? `${spec.label}: ${prediction.label}`
      : `${prediction.label} (${percent(prediction.confidence)})`;
    unsure.hidden = prediction.sure;
    unsure.textContent = prediction.sure
      ? ""
      : `Not sure: this looks unlike ${number ? "all the examples" : "the examples of every class"} (the most similar is only ${percent(
          prediction.neighbors[0]?.similarity,
        )} similar). It may be none of them.`;
    bars.replaceChildren(
      ...prediction.scores.map((score) =>
        el(
          "li",
          { dataset: { className: score.name } },
          el("span", { class: "bar-name" }, score.name),
          el("progress", { max: "1", value: String(score.probability), "aria-label": score.name }),
          el("span", { class: "bar-value" }, percent(score.probability)),
        ),
      ),
    );
    neighbors.replaceChildren(
      ...prediction.neighbors.map(({ sample, className, similarity, value }) =>
        el(
          "figure",
          {},
          el("img", {
            src: thumbnails.url(sample),
            alt:
              value === undefined || !spec
                ? `A sample of ${className}`
                : `A sample of ${formatValue(spec, value)}`,
            width: "56",
            height: "56",
          }),
          el(
            "figcaption",
            {},
            `${value === undefined || !spec ? className : formatValue(spec, value)} · ${percent(similarity)} similar`,
          ),
        ),
      ),
    );
  }

  return (state, previous) => {
    live = state.live;
    enable(upload, can("predict"));
    enable(choose, can("predict"));
    enable(liveToggle, live ? null : can("startLive"));
    liveToggle.textContent = live ? "Stop live prediction" : "Predict live from the camera";
    liveToggle.setAttribute("aria-pressed", String(live));
    fps.textContent = live && state.liveFps ? `${state.liveFps.toFixed(1)} per second` : "";
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OWN);
    if (
      state.camera !== previous?.camera ||
      state.prediction !== previous?.prediction ||
      state.live !== previous?.live
    )
      showInput(state);
    const settled =
      state.head === previous?.head &&
      state.dataset === previous?.dataset &&
      state.openedModel === previous?.openedModel &&
      state.training.state === previous?.training.state; // the hint follows nextStep()
    if (state.prediction === previous?.prediction && settled && state.status === previous?.status) return;
    showResult(state);
  };
}
