// The base model on LiteRT.js in a worker. A classic worker, not a module: LiteRT.js loads its
// Emscripten glue with importScripts. Speaks embed_worker.js's messages, so the pool in
// embedder.js runs either.
import { LiteRtModel } from "./runtime/litert_model.js";

let model = null;
// The pixels of the first run, which allocates XNNPACK's buffers: the page's probe, which the page
// checks. They come in their own message, once the page has decoded them, while this loads.
let receiveWarmUp;
const warmUpPixels = new Promise((resolve) => (receiveWarmUp = resolve));

self.onmessage = async ({ data }) => {
  if (data.type === "warm-up") {
    receiveWarmUp(data.pixels);
    return;
  }
  if (data.type === "load") {
    try {
      model = await LiteRtModel.load(data.modelSource, data.inputSize, data.runtime);
      const warmUp = await model.embed(new ImageData(await warmUpPixels, data.inputSize, data.inputSize));
      postMessage({ type: "ready", warmUp }, [warmUp.buffer]);
    } catch (error) {
      postMessage({ type: "failed", message: error.message });
    }
    return;
  }
  try {
    const embedding = await model.embed(data.pixels);
    postMessage({ type: "embedding", embedding }, [embedding.buffer]);
  } catch (error) {
    postMessage({ type: "failed", message: error.message });
  }
};
