// What tfjs_worker.js and litert_worker.js share: the messages the pool in embedder.js sends a
// model worker, and the answers. Each worker only says how to load its model.
//   {type: "warm-up", pixels}           the page's probe (RGBA), sent once the page has decoded it
//   {type: "load", inputSize, ...}      → {type: "ready", warmUp: the probe's embedding, hasMap}
//   {type: "embed", pixels, withMap}    → {type: "embedding", embedding, map, rows, cols} | failed
//   any failure                         → {type: "failed", message}
// `load(message)` resolves to a model with embed(ImageData) and embedWithMap(ImageData)
// (base_model.js, litert_model.js), which the probe then warms up.
export function serveModel(load) {
  let model = null;
  // The pixels of the first embedding (the page's probe, which the page checks): they come in their
  // own message, once the page has decoded them, while the model loads.
  let receiveWarmUp;
  const warmUpPixels = new Promise((resolve) => (receiveWarmUp = resolve));

  self.onmessage = async ({ data }) => {
    if (data.type === "warm-up") {
      receiveWarmUp(data.pixels);
      return;
    }
    try {
      if (data.type === "load") {
        model = await load(data);
        const warmUp = await model.embed(new ImageData(await warmUpPixels, data.inputSize, data.inputSize));
        postMessage({ type: "ready", warmUp, hasMap: model.hasMap }, [warmUp.buffer]);
      } else if (data.withMap) {
        const answer = await model.embedWithMap(data.pixels);
        const moved = answer.map ? [answer.embedding.buffer, answer.map.buffer] : [answer.embedding.buffer];
        postMessage({ type: "embedding", ...answer }, moved);
      } else {
        const embedding = await model.embed(data.pixels);
        postMessage({ type: "embedding", embedding }, [embedding.buffer]);
      }
    } catch (error) {
      postMessage({ type: "failed", message: error.message });
    }
  };
}
