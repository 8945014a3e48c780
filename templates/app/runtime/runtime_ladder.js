// The ladder of runtimes for the base model, fastest first: LiteRT.js relaxed SIMD → LiteRT.js SIMD
// → TF.js SIMD → TF.js plain WebAssembly, each in workers, then TF.js on the page's own backend. The
// page skips what the browser's WebAssembly lacks (wasm_features.js) and decides for its workers too.
// A runtime is kept only if its first embedding, of the build's probe photo (also its warm-up, so
// the check costs no extra run), follows the one Python computed: that catches an engine that
// computes wrongly, such as WebAssembly SIMD on iOS 16.4–17.1.
import { BaseModel } from "./base_model.js";
import { cosineSimilarity } from "../learning/dataset.js";
import { decodeBase64 } from "../files/inlined.js";
import { InlineEmbedder, startWorkerPool } from "./embedder.js";
import { liteRtFiles } from "./litert_files.js";
import { LiteRtModel } from "./litert_model.js";

const RUNGS = [
  { name: "litert", build: "relaxed", label: "LiteRT.js, relaxed SIMD build", needs: "relaxedSimd" },
  { name: "litert", build: "compat", label: "LiteRT.js, SIMD build without relaxed SIMD", needs: "simd" },
  { name: "tfjs", build: "simd", label: "TF.js, SIMD build", needs: "simd" },
  { name: "tfjs", build: "plain", label: "TF.js, plain WASM build", needs: "wasm" },
];

const MISSING = {
  relaxedSimd: "this browser has no WebAssembly relaxed SIMD",
  simd: "this browser has no WebAssembly SIMD",
  wasm: "this browser has no WebAssembly",
};

// {rungs, skipped}: the rungs this browser may run, best first, and those it cannot, each with the
// reason. `liteRt`: the build ships LiteRT.js (project.model.runtime).
export function planLadder({ liteRt, features, requestedLiteRt = null }) {
  const rungs = [];
  const skipped = [];
  for (const { needs, ...rung } of RUNGS) {
    if (rung.name === "litert" && !liteRt) continue;
    if (!features[needs]) skipped.push({ ...rung, reason: MISSING[needs] });
    else if (rung.build === "relaxed" && requestedLiteRt === "compat")
      skipped.push({ ...rung, reason: "the address asks for the compat build (?litert=compat)" });
    else rungs.push(rung);
  }
  return { rungs, skipped };
}

class SelfCheckFailed extends Error {
  constructor(cosine, floor) {
    super(`failed its self-check (cosine ${cosine.toFixed(4)} < ${floor})`);
    this.cosine = cosine;
  }
}

// The build's probe (project.model.self_check): {pixels: RGBA Uint8ClampedArray, embedding,
// minCosine}, or null for a page built without one. The browser's PNG decoder gives the exact pixels
// (an opaque PNG without a colour profile, drawn at 1:1).
async function readProbe(selfCheck, size) {
  if (!selfCheck) return null;
  const url = URL.createObjectURL(new Blob([decodeBase64(selfCheck.png)], { type: "image/png" }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(image, 0, 0);
    return {
      pixels: context.getImageData(0, 0, size, size).data,
      embedding: new Float32Array(decodeBase64(selfCheck.embedding).buffer),
      minCosine: selfCheck.min_cosine,
    };
  } finally {
    URL.revokeObjectURL(url);
  }
}

// Returns {cosine, floor}: how close `embedding` (of the probe, by a runtime of `runtime`: "litert"
// | "tfjs") is to Python's, and how close it must be; null without a probe. Throws SelfCheckFailed
// if it is farther than the build allows.
function checkProbe(probe, runtime, embedding) {
  if (!probe) return null;
  const floor = probe.minCosine[runtime] ?? probe.minCosine.tfjs;
  const similarity = cosineSimilarity(embedding, probe.embedding);
  if (!(similarity >= floor)) throw new SelfCheckFailed(similarity, floor);
  return { cosine: similarity, floor };
}

// A rung passed over: {...rung, reason} and, if it computed wrongly, the probe's `cosine`.
function failed(rung, error) {
  if (error instanceof SelfCheckFailed) return { ...rung, reason: error.message, cosine: error.cosine };
  return { ...rung, reason: `could not start: ${error.message}` };
}

// "LiteRT.js, relaxed SIMD build: this browser has no WebAssembly relaxed SIMD; …"
function describeSkipped(skipped) {
  return skipped.map((rung) => `${rung.label}: ${rung.reason}`).join("; ");
}

// What the page says when no runtime could run the base model: what is missing and who has it.
function noRuntimeMessage(features, skipped) {
  const browsers = "Use a current Chrome, Edge, Firefox or Safari (iOS 16.4 or later).";
  const tried = skipped.length ? ` (${describeSkipped(skipped)})` : "";
  if (!features.wasm)
    return `This browser cannot run WebAssembly, which the model needs. ${browsers}${tried}`;
  if (!features.simd)
    return `This browser has no WebAssembly SIMD, and the model could not run without it. ${browsers}${tried}`;
  return `The model could not run in this browser${tried}. ${browsers}`;
}

function pageRung(backend) {
  return { name: "tfjs", build: backend.build, label: `TF.js (${backend.text})` };
}

// One climb: what it needs to start each rung, and why workers cannot be used (then null).
class Climb {
  constructor(context, { page, wasmPaths, onChange }) {
    const { options, project } = context;
    this.context = context;
    this.page = page;
    this.wasmPaths = wasmPaths;
    this.onChange = onChange;
    this.inputSize = project.model.input_size;
    this.noWorkers = options.workers > 0 ? null : "workers=0";
    this.probe = null;
    this.skipped = [];
    this.passed = undefined;
  }

  // Throws SelfCheckFailed if the warm-up embedding of a `runtime` model is wrong; the first that
  // passes is kept in this.passed.
  async check(runtime, embedding) {
    const passed = checkProbe(await this.probe, runtime, embedding);
    this.passed ??= passed;
  }

  // The probe's pixels, or blank ones for a page built without a probe.
  async warmUp() {
    const probe = await this.probe;
    return probe ? probe.pixels : new Uint8ClampedArray(this.inputSize * this.inputSize * 4);
  }

  async inline(runtime, model, reason) {
    try {
      const pixels = new ImageData(await this.warmUp(), this.inputSize, this.inputSize);
      await this.check(runtime, await model.embed(pixels));
    } catch (error) {
      model.dispose();
      throw error;
    }
    return new InlineEmbedder(model, reason);
  }

  // Workers, unless workers failed before; a worker that cannot start leaves this.noWorkers why.
  async inWorkers(rung, workerUrl, load) {
    if (this.noWorkers || !workerUrl) return null;
    try {
      return await startWorkerPool({
        workers: this.context.options.workers,
        workerUrl,
        load: { ...load, inputSize: this.inputSize },
        warmUp: this.warmUp(),
        check: (embedding) => this.check(rung.name, embedding),
        onChange: (pool) => this.onChange(pool, rung, this.skipped),
      });
    } catch (error) {
      if (error instanceof SelfCheckFailed) throw error;
      this.noWorkers = `no worker: ${error.message}`;
      return null;
    }
  }

  // LiteRT.js in workers, else on the page.
  async liteRt(rung) {
    const { options, services } = this.context;
    const files = await liteRtFiles(rung.build);
    const runtime = { glueUrl: files.glueUrl, wasmModule: files.wasm.module };
    const load = { modelSource: files.model, runtime };
    const embedder =
      (await this.inWorkers(rung, options.liteRtWorkerUrl, load)) ??
      (await this.inline(
        "litert",
        await LiteRtModel.load(files.model, this.inputSize, runtime),
        this.noWorkers,
      ));
    // The service worker keeps the build in use (features/offline.js).
    services.fetched.set(files.wasmUrl, files.wasm.bytes);
    return embedder;
  }

  // TF.js in workers, if the page's own backend is WASM too (a faster GPU runs it on the page):
  // null if it does not run there.
  async tfjs(rung) {
    const { options } = this.context;
    if (![null, "wasm"].includes(options.requestedBackend)) return null;
    const load = {
      modelSource: options.model,
      wasmPaths: this.wasmPaths,
      wasmBinaries: options.wasmBinaries,
      simd: rung.build === "simd",
    };
    const pool = this.inWorkers(rung, options.workerUrl, load);
    pool.catch(() => {}); // heard below, once the page's backend is known
    const backend = await this.page;
    if (backend.name === "wasm") return pool;
    this.noWorkers = `${backend.name} backend`;
    pool.then(
      (started) => started?.dispose(),
      () => {},
    );
    return null;
  }

  async onPage() {
    const { options } = this.context;
    const backend = await this.page;
    const rung = pageRung(backend);
    const reason = this.noWorkers ?? (backend.name === "wasm" ? null : `${backend.name} backend`);
    return { rung, embedder: await this.inline("tfjs", await BaseModel.load(options.model), reason) };
  }
}

// Starts the base model on the best rung that runs and passes its check. `page` resolves to the
// page's own TF.js backend (backend.js), whose WASM binaries are at `wasmPaths`; `onChange(embedder,
// rung, skipped)` hears workers start and stop.
// Resolves to {embedder, rung: {name, build, label}, skipped: [{name, build, label, reason, cosine?}],
// selfCheck: {cosine, floor} of the rung kept (null for a page built without a probe)};
// rejects with the sentence to show when nothing runs.
export async function startBaseModel(context, { features, page, wasmPaths, onChange }) {
  const { project } = context;
  const { rungs, skipped } = planLadder({
    liteRt: project.model.runtime === "litert",
    features,
    requestedLiteRt: new URLSearchParams(location.search).get("litert"),
  });
  const climb = new Climb(context, { page, wasmPaths, onChange });
  climb.skipped = skipped;
  // Decoded while the first runtime loads. A probe this browser cannot decode leaves the runtimes
  // unchecked rather than the page unusable.
  climb.probe = readProbe(project.model.self_check, climb.inputSize).catch(() => null);
  for (const rung of rungs) {
    try {
      const embedder = rung.name === "litert" ? await climb.liteRt(rung) : await climb.tfjs(rung);
      if (embedder) return { embedder, rung, skipped, selfCheck: climb.passed };
      if (rung.name === "tfjs") break; // workers cannot run it: the page's backend does
    } catch (error) {
      skipped.push(failed(rung, error));
    }
  }
  try {
    return { ...(await climb.onPage()), skipped, selfCheck: climb.passed };
  } catch (error) {
    skipped.push(failed(pageRung(await page), error));
    throw new Error(noRuntimeMessage(features, skipped));
  }
}
