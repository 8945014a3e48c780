// The base model on LiteRT.js: an int8 .tflite run by XNNPACK's kernels in WebAssembly, several
// times faster than TF.js's float kernels. Same shape as base_model.js (load, embed, dispose), so the
// embedder runs either in workers or on the page. LiteRT.js has one global runtime per thread.
import { loadAndCompile, loadLiteRt, supportsFeature, Tensor } from "@litertjs/core";

// LiteRT.js's single-threaded builds: "relaxed" needs WebAssembly relaxed SIMD, "compat" only SIMD.
export const LITERT_BUILDS = {
  relaxed: { glue: "litert_wasm_internal.js", wasm: "litert_wasm_internal.wasm" },
  compat: { glue: "litert_wasm_compat_internal.js", wasm: "litert_wasm_compat_internal.wasm" },
};
export const BUILD_LABELS = { relaxed: "relaxed SIMD build", compat: "SIMD build without relaxed SIMD" };

// The build this browser can run; `requested` (?litert=compat) forces one.
export async function chooseLiteRtBuild(requested) {
  if (requested in LITERT_BUILDS) return requested;
  return (await supportsFeature("relaxedSimd")) ? "relaxed" : "compat";
}

// From the wasm/ folder, by build: {glueUrl, wasmUrl}.
export function liteRtUrls(build, base) {
  const files = LITERT_BUILDS[build];
  return { glueUrl: new URL(files.glue, base).href, wasmUrl: new URL(files.wasm, base).href };
}

// How the glue gets its WebAssembly: a module the page compiled once (WebAssembly.Module), its
// bytes (from file:// nothing can be fetched), or its URL.
function wasmSource({ wasmUrl, wasmBinary, wasmModule }) {
  if (wasmModule)
    return {
      instantiateWasm(imports, done) {
        WebAssembly.instantiate(wasmModule, imports).then((instance) => done(instance, wasmModule));
        return {};
      },
    };
  return wasmBinary ? { wasmBinary } : { locateFile: () => wasmUrl };
}

async function startRuntime(runtime) {
  const { glueUrl } = runtime;
  // Emscripten's glue reads self.Module when its factory runs: in a worker it cannot work out
  // where the wasm is by itself.
  self.Module = {
    ...wasmSource(runtime),
    // LiteRT writes its informational lines to stderr, which a browser would show as errors.
    printErr: (text) => (text.startsWith("INFO:") ? console.debug(text) : console.warn(text)),
  };
  if (glueUrl) {
    await loadLiteRt(glueUrl);
    return;
  }
  // The glue came inside this worker's own script (a single file: nothing can be fetched from
  // file://), so ModuleFactory is defined already; LiteRT.js would import it again by URL.
  const importScripts = self.importScripts;
  self.importScripts = () => {};
  try {
    await loadLiteRt("inlined-glue.js");
  } finally {
    self.importScripts = importScripts;
  }
}

export class LiteRtModel {
  constructor(model, inputSize) {
    this.model = model;
    this.inputSize = inputSize;
    this.input = new Float32Array(inputSize * inputSize * 3);
  }

  // `source` is the .tflite's URL or its bytes; `runtime` is {glueUrl} with wasmModule, wasmBinary or
  // wasmUrl (see wasmSource), or {wasmBinary} alone when the glue is inlined.
  static async load(source, inputSize, runtime) {
    await startRuntime(runtime);
    const bytes =
      typeof source === "string" ? new Uint8Array(await (await fetch(source)).arrayBuffer()) : source;
    const model = new LiteRtModel(await loadAndCompile(bytes, { accelerator: "wasm" }), inputSize);
    // The first run allocates XNNPACK's buffers; do it before anyone waits for an answer.
    await model.embed(new ImageData(inputSize, inputSize));
    return model;
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
