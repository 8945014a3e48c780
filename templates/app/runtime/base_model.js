// The base model itself: loads the converted graph and turns input-sized pixels into one
// embedding. Runs wherever TF.js runs, in a worker (embed_worker.js) or on the page.
import * as tf from "@tensorflow/tfjs-core";
import { loadGraphModel } from "@tensorflow/tfjs-converter";

export class BaseModel {
  constructor(model) {
    this.model = model;
  }

  // `source` is the model's URL or an in-memory IOHandler's artifacts. The first embedding compiles
  // and allocates: whoever loads it warms it up (with the page's probe, runtime_ladder.js).
  static async load(source) {
    const handler = typeof source === "string" ? source : tf.io.fromMemory(source);
    return new BaseModel(await loadGraphModel(handler));
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
