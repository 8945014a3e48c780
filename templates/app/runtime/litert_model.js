// The base model on LiteRT.js: an int8 .tflite run by XNNPACK's kernels in WebAssembly, several
// times faster than TF.js's float kernels. Same shape as base_model.js (load, embed, embedWithMap,
// dispose), so the embedder runs either in workers or on the page. LiteRT.js has one global runtime per thread.
import { loadAndCompile, loadLiteRt, Tensor } from "@litertjs/core";

// LiteRT.js's single-threaded builds: "relaxed" needs WebAssembly relaxed SIMD, "compat" only SIMD.
export const LITERT_BUILDS = {
  relaxed: { glue: "litert_wasm_internal.js", wasm: "litert_wasm_internal.wasm" },
  compat: { glue: "litert_wasm_compat_internal.js", wasm: "litert_wasm_compat_internal.wasm" },
};

// From the wasm/ folder, by build: {glueUrl, wasmUrl}.
export function liteRtUrls(build, base) {
  const files = LITERT_BUILDS[build];
  return { glueUrl: new URL(files.glue, base).href, wasmUrl: new URL(files.wasm, base).href };
}

// Emscripten's glue reads self.Module when its factory runs: the WebAssembly comes as a module the
// page compiled once (in a worker the glue could not work out where the file is by itself).
async function startRuntime({ glueUrl, wasmModule }) {
  self.Module = {
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(wasmModule, imports).then((instance) => done(instance, wasmModule));
      return {};
    },
    // LiteRT writes its informational lines to stderr, which a browser would show as errors.
    printErr: (text) => (text.startsWith("INFO:") ? console.debug(text) : console.warn(text)),
  };
  await loadLiteRt(glueUrl);
}

export class LiteRtModel {
  constructor(model, inputSize) {
    this.model = model;
    this.inputSize = inputSize;
    this.input = new Float32Array(inputSize * inputSize * 3);
    // The embedding is the rank-2 output; the feature map it pools (builder/models/base.py), if the
    // build gave the model one, the rank-4 output [1, rows, cols, channels].
    const details = model.getOutputDetails();
    this.embeddingIndex = Math.max(
      details.findIndex((detail) => detail.shape.length === 2),
      0,
    );
    this.mapIndex = details.findIndex((detail) => detail.shape.length === 4);
    this.mapShape = this.mapIndex >= 0 ? Array.from(details[this.mapIndex].shape) : null;
  }

  // `bytes` is the .tflite; `runtime` is {glueUrl, wasmModule}: the glue script's URL and the
  // WebAssembly module it runs. The first embedding allocates XNNPACK's buffers: whoever loads the
  // model warms it up (with the page's probe, runtime_ladder.js).
  static async load(bytes, inputSize, runtime) {
    await startRuntime(runtime);
    return new LiteRtModel(await loadAndCompile(bytes, { accelerator: "wasm" }), inputSize);
  }

  get hasMap() {
    return this.mapIndex >= 0;
  }

  // `pixels` is an input-sized ImageData (RGBA); the model takes 0–255 RGB floats, batch of one.
  async embed(pixels) {
    return (await this.run(pixels, false)).embedding;
  }

  // {embedding, map, rows, cols} as base_model.js's: the map is read from the same run.
  async embedWithMap(pixels) {
    return this.run(pixels, true);
  }

  async run(pixels, withMap) {
    const { data } = pixels;
    for (let i = 0, j = 0; j < this.input.length; i += 4, j += 3) {
      this.input[j] = data[i];
      this.input[j + 1] = data[i + 1];
      this.input[j + 2] = data[i + 2];
    }
    const input = new Tensor(this.input, [1, this.inputSize, this.inputSize, 3]);
    try {
      const outputs = await this.model.run(input);
      const embedding = outputs[this.embeddingIndex].toTypedArray().slice();
      const answer = { embedding, map: null, rows: 0, cols: 0 };
      // The map is copied out of WebAssembly's memory only when asked for.
      if (withMap && this.hasMap) {
        answer.map = outputs[this.mapIndex].toTypedArray().slice();
        [, answer.rows, answer.cols] = this.mapShape;
      }
      for (const output of outputs) output.delete();
      return answer;
    } finally {
      input.delete();
    }
  }

  dispose() {
    this.model.delete();
  }
}
