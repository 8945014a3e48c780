// The base model on LiteRT.js in a worker. A classic worker, not a module: LiteRT.js loads its
// Emscripten glue with importScripts. Speaks embed_worker.js's messages, so the pool in
// embedder.js runs either.
import { LiteRtModel } from "./litert_model.js";

let model = null;

self.onmessage = async ({ data }) => {
  if (data.type === "load") {
    try {
      model = await LiteRtModel.load(data.modelSource, data.inputSize, data.runtime);
      // The first run allocates XNNPACK's buffers; it embeds the page's probe, which the page checks.
      const warmUp = await model.embed(new ImageData(data.warmUp, data.inputSize, data.inputSize));
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
