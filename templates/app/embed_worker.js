// The base model in a worker: one embedding takes 50–100 ms on a laptop CPU, which would freeze the
// page if it ran there, and two workers embed two frames at once.
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { BaseModel } from "./base_model.js";
import { serveFromMemory } from "./embedded.js";

let model = null;

async function load({ modelSource, wasmPaths, wasmBinaries, inputSize }) {
  const inMemory = Object.keys(wasmBinaries).length > 0;
  if (inMemory) serveFromMemory(tf.env().platform, wasmPaths, wasmBinaries);
  setWasmPaths(wasmPaths, inMemory);
  if (!(await tf.setBackend("wasm"))) throw new Error("WebAssembly could not start in a worker.");
  await tf.ready();
  model = await BaseModel.load(modelSource, inputSize);
}

self.onmessage = async ({ data }) => {
  if (data.type === "load") {
    try {
      await load(data);
      postMessage({ type: "ready" });
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
