// The base model on TF.js in a worker (its sibling litert_worker.js runs it on LiteRT.js): one
// embedding takes 50–100 ms on a laptop CPU, which would freeze the page if it ran there, and two
// workers embed two frames at once. Messages: runtime/model_worker.js.
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { BaseModel } from "./runtime/base_model.js";
import { serveModel } from "./runtime/model_worker.js";
import { serveFromMemory } from "./files/inlined.js";

serveModel(async ({ modelSource, wasmPaths, wasmBinaries, simd }) => {
  const inMemory = Object.keys(wasmBinaries).length > 0;
  if (inMemory) serveFromMemory(tf.env().platform, wasmPaths, wasmBinaries);
  setWasmPaths(wasmPaths, inMemory);
  // The page decides for its workers whether TF.js uses its SIMD build (runtime_ladder.js): it knows
  // what the browser lacks, and whether the SIMD build already failed its check.
  if (!simd) tf.env().set("WASM_HAS_SIMD_SUPPORT", false);
  if (!(await tf.setBackend("wasm"))) throw new Error("WebAssembly could not start in a worker.");
  await tf.ready();
  return BaseModel.load(modelSource);
});
