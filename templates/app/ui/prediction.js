// "Try it": the camera live or an uploaded image, shown beside the answer; a confidence bar per
// class, a plain warning when the nearest samples are too unlike the image, and the nearest
// training samples, which show why the model decided as it did.
import { nextStep } from "../next_step.js";
import { byActions, showNotice } from "./messages.js";
import { byTestId, chooseFiles, el, enable, percent } from "./dom.js";

const OWN = byActions("predict", "startLive", "stopLive", "startCamera", "stopCamera");

export function mountPrediction(root, { can, dispatch }, thumbnails) {
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
      return;
    }
    output.dataset.label = prediction.label;
    output.dataset.confidence = prediction.confidence.toFixed(4);
    output.dataset.sure = String(prediction.sure);
    label.textContent = `${prediction.label} (${percent(prediction.confidence)})`;
    unsure.hidden = prediction.sure;
    unsure.textContent = prediction.sure
      ? ""
      : `Not sure: this looks unlike the examples of every class (the most similar is only ${percent(
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
      ...prediction.neighbors.map(({ sample, className, similarity }) =>
        el(
          "figure",
          {},
          el("img", {
            src: thumbnails.url(sample),
            alt: `A sample of ${className}`,
            width: "56",
            height: "56",
          }),
          el("figcaption", {}, `${className} · ${percent(similarity)} similar`),
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
      state.openedModel === previous?.openedModel;
    if (state.prediction === previous?.prediction && settled && state.status === previous?.status) return;
    showResult(state);
  };
}
