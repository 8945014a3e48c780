// Prediction: an uploaded image or the live camera; a confidence bar per class and the nearest
// training samples, which show why the model decided as it did.
import { byTestId, el, enable, percent } from "./dom.js";

export function mountPrediction(root, { can, dispatch }, thumbnails) {
  const upload = byTestId(root, "predict-upload");
  const liveToggle = byTestId(root, "live-toggle");
  const output = byTestId(root, "prediction");
  const label = byTestId(root, "prediction-label");
  const bars = byTestId(root, "prediction-bars");
  const neighbors = byTestId(root, "neighbors");
  const fps = byTestId(root, "live-fps");
  let live = false;
  upload.addEventListener("change", () => {
    const [file] = upload.files;
    upload.value = "";
    if (file) dispatch("predict", [file]);
  });
  liveToggle.addEventListener("click", () => dispatch(live ? "stopLive" : "startLive"));

  return (state, previous) => {
    live = state.live;
    const refused = can("predict");
    enable(upload, refused);
    enable(liveToggle, live ? null : can("startLive"));
    liveToggle.textContent = live ? "Stop live prediction" : "Predict live from the camera";
    liveToggle.setAttribute("aria-pressed", String(live));
    fps.textContent = live && state.liveFps ? `${state.liveFps.toFixed(1)} predictions per second` : "";
    if (state.prediction === previous?.prediction && state.head === previous?.head) return;
    const { prediction } = state;
    output.dataset.count = String(state.predictionCount);
    if (!prediction) {
      output.dataset.label = "";
      output.dataset.confidence = "";
      label.textContent = refused
        ? "Train the model first."
        : "Show the camera an example or choose an image.";
      bars.replaceChildren();
      neighbors.replaceChildren();
      return;
    }
    output.dataset.label = prediction.label;
    output.dataset.confidence = prediction.confidence.toFixed(4);
    label.textContent = `${prediction.label} (${percent(prediction.confidence)})`;
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
      ...prediction.neighbors.map(({ sample, className, similarity }) =>
        el(
          "figure",
          {},
          el("img", { src: thumbnails.url(sample), alt: "", width: "64", height: "64" }),
          el("figcaption", {}, `${className} · ${percent(similarity)} similar`),
        ),
      ),
    );
  };
}
