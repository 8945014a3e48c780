// The base model itself: loads the converted graph and turns input-sized pixels into one
// embedding, and on request into the feature map it pools, from the same pass. Runs wherever TF.js
// runs, in a worker (tfjs_worker.js) or on the page.
import * as tf from "@tensorflow/tfjs-core";
import { loadGraphModel } from "@tensorflow/tfjs-converter";

export class BaseModel {
  constructor(model) {
    this.model = model;
    // The map is a graph node outside the model's signature, named in its metadata by the build
    // (builder/convert.py mark_feature_map), so that `predict` gives the embedding alone.
    this.mapNode = model.metadata?.featureMap?.node ?? null;
  }

  // `source` is the model's URL or an in-memory IOHandler's artifacts. The first embedding compiles
  // and allocates: whoever loads it warms it up (with the page's probe, runtime_ladder.js).
  static async load(source) {
    const handler = typeof source === "string" ? source : tf.io.fromMemory(source);
    return new BaseModel(await loadGraphModel(handler));
  }

  get hasMap() {
    return this.mapNode !== null;
  }

  // `pixels` is an input-sized ImageData; returns a Float32Array.
  embed(pixels) {
    return tf.tidy(() => this.model.predict(inputOf(pixels)).dataSync().slice());
  }

  // {embedding, map, rows, cols}: `map` is rows×cols×channels floats, row-major from the top-left,
  // channels last, or null for a model without one (embedding alone, rows = cols = 0).
  embedWithMap(pixels) {
    if (!this.hasMap) return { embedding: this.embed(pixels), map: null, rows: 0, cols: 0 };
    return tf.tidy(() => {
      const [embedding, map] = this.model.execute(inputOf(pixels), [this.model.outputNodes[0], this.mapNode]);
      return {
        embedding: embedding.dataSync().slice(),
        map: map.dataSync().slice(),
        rows: map.shape[1],
        cols: map.shape[2],
      };
    });
  }

  dispose() {
    this.model.dispose();
  }
}

function inputOf(pixels) {
  return tf.expandDims(tf.cast(tf.browser.fromPixels(pixels), "float32"), 0);
}
