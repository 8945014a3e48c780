// Prediction: an uploaded image or the live camera; a confidence bar per class and the nearest
// training samples, which show why the model decided as it did.
import { byTestId, el, percent } from "./dom.js";

export class PredictionView {
  constructor(app, thumbnails) {
    this.app = app;
    this.thumbnails = thumbnails;
    this.upload = byTestId("predict-upload");
    this.liveToggle = byTestId("live-toggle");
    this.output = byTestId("prediction");
    this.label = byTestId("prediction-label");
    this.bars = byTestId("prediction-bars");
    this.neighbors = byTestId("neighbors");
    this.fps = byTestId("live-fps");
    this.upload.addEventListener("change", async () => {
      const [file] = this.upload.files;
      this.upload.value = "";
      if (file) await app.predictFile(file);
    });
    this.liveToggle.addEventListener("click", () => (app.state.live ? app.stopLive() : app.startLive()));
  }

  render(state, previous) {
    const trained = state.training.state === "done" && this.app.trained;
    this.upload.disabled = !trained;
    this.liveToggle.disabled = !trained;
    this.liveToggle.textContent = state.live ? "Stop live prediction" : "Predict live from the camera";
    this.liveToggle.setAttribute("aria-pressed", String(state.live));
    this.fps.textContent =
      state.live && state.liveFps ? `${state.liveFps.toFixed(1)} predictions per second` : "";
    if (state.prediction === previous?.prediction) return;
    const prediction = state.prediction;
    this.output.dataset.count = String(state.predictionCount);
    if (!prediction) {
      this.output.dataset.label = "";
      this.output.dataset.confidence = "";
      this.label.textContent = trained
        ? "Show the camera an example or choose an image."
        : "Train the model first.";
      this.bars.replaceChildren();
      this.neighbors.replaceChildren();
      return;
    }
    this.output.dataset.label = prediction.label;
    this.output.dataset.confidence = prediction.confidence.toFixed(4);
    this.label.textContent = `${prediction.label} (${percent(prediction.confidence)})`;
    this.bars.replaceChildren(
      ...prediction.scores.map((score) => {
        const bar = el("progress", { max: "1", value: String(score.probability), "aria-label": score.name });
        return el(
          "li",
          { dataset: { className: score.name } },
          el("span", { class: "bar-name" }, score.name),
          bar,
          el("span", { class: "bar-value" }, percent(score.probability)),
        );
      }),
    );
    this.neighbors.replaceChildren(
      ...prediction.neighbors.map(({ sample, similarity }) =>
        el(
          "figure",
          {},
          el("img", { src: this.thumbnails.url(sample), alt: "", width: "64", height: "64" }),
          el(
            "figcaption",
            {},
            `${state.dataset.classById(sample.classId)?.name ?? "?"} · ${percent(similarity)} similar`,
          ),
        ),
      ),
    );
  }
}
