// Turns an image, video frame or canvas into one embedding with the base model. The one
// preprocessing path: centre square crop, drawn onto an input-sized canvas, raw 0–255 pixels
// (the model normalizes them itself, exactly as in Python).
import * as tf from "@tensorflow/tfjs-core";
import { loadGraphModel } from "@tensorflow/tfjs-converter";

function sourceSize(source) {
  if (source instanceof HTMLVideoElement) return [source.videoWidth, source.videoHeight];
  if (source instanceof HTMLImageElement) return [source.naturalWidth, source.naturalHeight];
  return [source.width, source.height];
}

export class FeatureExtractor {
  constructor(model, inputSize) {
    this.model = model;
    this.inputSize = inputSize;
    this.canvas = document.createElement("canvas");
    this.canvas.width = inputSize;
    this.canvas.height = inputSize;
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.context.imageSmoothingQuality = "high";
  }

  static async load(modelSource, inputSize) {
    const model = await loadGraphModel(modelSource);
    const extractor = new FeatureExtractor(model, inputSize);
    extractor.warmUp();
    return extractor;
  }

  warmUp() {
    tf.tidy(() => this.model.predict(tf.zeros([1, this.inputSize, this.inputSize, 3]))).dispose();
  }

  get embeddingSize() {
    return this.model.outputs[0].shape.at(-1);
  }

  // Draws the centre square of `source` at input size; returns the canvas.
  draw(source) {
    const [width, height] = sourceSize(source);
    if (!width || !height) throw new Error("The image has no pixels.");
    const side = Math.min(width, height);
    const size = this.inputSize;
    this.context.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
    return this.canvas;
  }

  embed(source) {
    const canvas = this.draw(source);
    return tf.tidy(() => {
      const pixels = tf.expandDims(tf.cast(tf.browser.fromPixels(canvas), "float32"), 0);
      return this.model.predict(pixels).dataSync().slice();
    });
  }

  dispose() {
    this.model.dispose();
  }
}
