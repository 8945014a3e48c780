// LiteRT.js's files for this page, fetched once for every worker (two workers fetching the same
// 9 MB WebAssembly and 5 MB model at once could each download them): the build this browser runs,
// its WebAssembly compiled while it downloads, and the .tflite. Started by whichever script runs
// first: litert-start.js (async, from the page's <head>) or app.js, whose evaluation alone took
// 190 ms of a return visit before anything was fetched.
import { chooseLiteRtBuild, liteRtUrls } from "./litert_model.js";

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

async function fetchLiteRtFiles() {
  const base = document.baseURI;
  const build = await chooseLiteRtBuild(new URLSearchParams(location.search).get("litert"));
  const { glueUrl, wasmUrl } = liteRtUrls(build, new URL("wasm/", base).href);
  const [model, wasm] = await Promise.all([
    fetchBytes(new URL("model/model.tflite", base).href),
    fetchWasm(wasmUrl),
  ]);
  return { build, glueUrl, wasmUrl, model, wasm };
}

// Resolves to {build, glueUrl, wasmUrl, model (the .tflite's bytes), wasm: {module, bytes}}; the
// same promise for every caller in this page.
export function liteRtFiles() {
  if (!globalThis[STARTED]) {
    globalThis[STARTED] = fetchLiteRtFiles();
    // Whoever takes the files over hears a failure; until then it is not an unhandled rejection.
    globalThis[STARTED].catch(() => {});
  }
  return globalThis[STARTED];
}
