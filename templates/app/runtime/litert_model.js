// The base model on LiteRT.js: an int8 .tflite run by XNNPACK's kernels in WebAssembly, several
// times faster than TF.js's float kernels. Same shape as base_model.js (load, embed, dispose), so the
// embedder runs either in workers or on the page. LiteRT.js has one global runtime per thread.
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
  }

  // `bytes` is the .tflite; `runtime` is {glueUrl, wasmModule}: the glue script's URL and the
  // WebAssembly module it runs. The first embedding allocates XNNPACK's buffers: whoever loads the
  // model warms it up (with the page's probe, runtime_ladder.js).
  static async load(bytes, inputSize, runtime) {
    await startRuntime(runtime);
    return new LiteRtModel(await loadAndCompile(bytes, { accelerator: "wasm" }), inputSize);
  }

  // `pixels` is an input-sized ImageData (RGBA); the model takes 0–255 RGB floats, batch of one.
  async embed(pixels) {
    const { data } = pixels;
    for (let i = 0, j = 0; j < this.input.length; i += 4, j += 3) {
      this.input[j] = data[i];
      this.input[j + 1] = data[i + 1];
      this.input[j + 2] = data[i + 2];
    }
    const input = new Tensor(this.input, [1, this.inputSize, this.inputSize, 3]);
    try {
      const outputs = await this.model.run(input);
      const embedding = outputs[0].toTypedArray().slice();
      for (const output of outputs) output.delete();
      return embedding;
    } finally {
      input.delete();
    }
  }

  dispose() {
    this.model.delete();
  }
}
