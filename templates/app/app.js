// The app layer: owns the state and the load → embed steps; the UI only renders it.
import { chooseBackend } from "./backend.js";
import { FeatureExtractor } from "./features.js";

export class App {
  constructor(project, { requestedBackend = null, wasmUrls = {}, modelUrl = "model/model.json" } = {}) {
    this.project = project;
    this.options = { requestedBackend, wasmUrls, modelUrl };
    this.state = { status: "loading", message: "Loading the model…", backend: null, embedding: null };
    this.listeners = [];
    this.extractor = null;
  }

  subscribe(listener) {
    this.listeners.push(listener);
    listener(this.state);
  }

  update(change) {
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) listener(this.state);
  }

  async start() {
    try {
      const backend = await chooseBackend({
        requested: this.options.requestedBackend,
        wasmUrls: this.options.wasmUrls,
      });
      this.update({ backend, message: `Loading the model on ${backend.detail}…` });
      this.extractor = await FeatureExtractor.load(this.options.modelUrl, this.project.model.input_size);
      this.update({ status: "ready", message: "Ready." });
    } catch (error) {
      this.update({ status: "error", message: `The model could not be loaded: ${error.message}` });
    }
  }

  // Embeds one image file; a file the browser cannot decode becomes a message, not an exception.
  async embedFile(file) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      this.update({ message: `"${file.name}" is not an image this browser can read.` });
      return;
    }
    try {
      const start = performance.now();
      const values = this.extractor.embed(bitmap);
      const milliseconds = performance.now() - start;
      this.update({
        embedding: { name: file.name, values: Array.from(values), milliseconds, sequence: (this.state.embedding?.sequence ?? 0) + 1 },
        message: `Embedded "${file.name}" in ${milliseconds.toFixed(0)} ms.`,
      });
    } catch (error) {
      this.update({ message: `"${file.name}" could not be embedded: ${error.message}` });
    } finally {
      bitmap.close();
    }
  }
}
