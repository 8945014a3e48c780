// The base model itself: loads the converted graph and turns input-sized pixels into one
// embedding. Runs wherever TF.js runs, in a worker (embed_worker.js) or on the page.
import * as tf from "@tensorflow/tfjs-core";
import { loadGraphModel } from "@tensorflow/tfjs-converter";

export class BaseModel {
  constructor(model) {
    this.model = model;
  }

  // `source` is the model's URL or an in-memory IOHandler's artifacts.
  static async load(source, inputSize) {
    const handler = typeof source === "string" ? source : tf.io.fromMemory(source);
    const model = new BaseModel(await loadGraphModel(handler));
    // The first run compiles and allocates; do it before anyone waits for an answer.
    model.embed(new ImageData(inputSize, inputSize));
    return model;
  }

  // `pixels` is an input-sized ImageData; returns a Float32Array.
  embed(pixels) {
    return tf.tidy(() => {
      const input = tf.expandDims(tf.cast(tf.browser.fromPixels(pixels), "float32"), 0);
      return this.model.predict(input).dataSync().slice();
    });
  }

  dispose() {
    this.model.dispose();
  }
}
