// The base model in a worker: one embedding takes 50–100 ms on a laptop CPU, which would freeze the
// page if it ran there, and two workers embed two frames at once.
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { BaseModel } from "./runtime/base_model.js";
import { serveFromMemory } from "./files/inlined.js";

let model = null;
// The pixels of the first embedding (the page's probe), which the page checks: they come in their
// own message, once the page has decoded them, while this loads.
let receiveWarmUp;
const warmUp = new Promise((resolve) => (receiveWarmUp = resolve));

// Resolves to the embedding of the warm-up pixels.
async function load({ modelSource, wasmPaths, wasmBinaries, inputSize, simd }) {
  const inMemory = Object.keys(wasmBinaries).length > 0;
  if (inMemory) serveFromMemory(tf.env().platform, wasmPaths, wasmBinaries);
  setWasmPaths(wasmPaths, inMemory);
  // The page decides for its workers whether TF.js uses its SIMD build (runtime_ladder.js): it knows
  // what the browser lacks, and whether the SIMD build already failed its check.
  if (!simd) tf.env().set("WASM_HAS_SIMD_SUPPORT", false);
  if (!(await tf.setBackend("wasm"))) throw new Error("WebAssembly could not start in a worker.");
  await tf.ready();
  model = await BaseModel.load(modelSource);
  return model.embed(new ImageData(await warmUp, inputSize, inputSize));
}

self.onmessage = async ({ data }) => {
  if (data.type === "warm-up") {
    receiveWarmUp(data.pixels);
    return;
  }
  if (data.type === "load") {
    try {
      const warmUp = await load(data);
      postMessage({ type: "ready", warmUp }, [warmUp.buffer]);
    } catch (error) {
      postMessage({ type: "failed", message: error.message });
    }
    return;
  }
  try {
    const embedding = model.embed(data.pixels);
    postMessage({ type: "embedding", embedding }, [embedding.buffer]);
  } catch (error) {
    postMessage({ type: "failed", message: error.message });
  }
};
