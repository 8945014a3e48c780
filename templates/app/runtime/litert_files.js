// LiteRT.js's files for this page, fetched once for every worker (two workers fetching the same
// 9 MB WebAssembly and 5 MB model at once could each download them): a build's WebAssembly,
// compiled while it downloads, and the .tflite. The build the page tries first is started by
// whichever script runs first: litert-start.js (async, from the page's <head>) or app.js, whose
// evaluation alone took 190 ms of a return visit before anything was fetched; another build only
// if that one fails (runtime_ladder.js). A browser without WebAssembly SIMD fetches nothing.
import { liteRtUrls } from "./litert_model.js";
import { firstLiteRtBuild, wasmFeatures } from "./wasm_features.js";

const STARTED = Symbol.for("teachkit.litert-files");

async function fetched(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} could not be loaded (HTTP ${response.status}).`);
  return response;
}

async function fetchBytes(url) {
  return new Uint8Array(await (await fetched(url)).arrayBuffer());
}

// Compiled while it downloads (a host that does not send it as application/wasm: once it is in);
// the bytes kept for the service worker (features/offline.js).
async function fetchWasm(url) {
  const response = await fetched(url);
  const bytes = response
    .clone()
    .arrayBuffer()
    .then((buffer) => new Uint8Array(buffer));
  const module = await WebAssembly.compileStreaming(response).catch(async () =>
    WebAssembly.compile(await bytes),
  );
  return { module, bytes: await bytes };
}

async function fetchLiteRtFiles(build, model) {
  const { glueUrl, wasmUrl } = liteRtUrls(build, new URL("wasm/", document.baseURI).href);
  const [modelBytes, wasm] = await Promise.all([model, fetchWasm(wasmUrl)]);
  return { build, glueUrl, wasmUrl, model: modelBytes, wasm };
}

function started() {
  if (!globalThis[STARTED]) globalThis[STARTED] = { builds: {}, model: null };
  return globalThis[STARTED];
}

// The build this page tries first ("relaxed" | "compat"), or null where none can run.
export function firstBuild() {
  return firstLiteRtBuild(wasmFeatures(), new URLSearchParams(location.search).get("litert"));
}

// Resolves to {build, glueUrl, wasmUrl, model (the .tflite's bytes), wasm: {module, bytes}}; the
// same promise for every caller in this page, by build.
export function liteRtFiles(build = firstBuild()) {
  const files = started();
  if (!build) return null;
  if (!files.builds[build]) {
    files.model ??= fetchBytes(new URL("model/model.tflite", document.baseURI).href);
    files.builds[build] = fetchLiteRtFiles(build, files.model);
    // Whoever takes the files over hears a failure; until then it is not an unhandled rejection.
    files.builds[build].catch(() => {});
  }
  return files.builds[build];
}
