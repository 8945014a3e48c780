// Picks the fastest TF.js backend this device really offers. Headless and GPU-less machines often
// expose WebGL through a software rasterizer (SwiftShader, llvmpipe), which is an order of
// magnitude slower than WASM with SIMD, so a software WebGL is never chosen unless asked for.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-webgl";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const WASM_FILES = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
];

// Absolute URLs (or blob URLs, in a single file) of the WASM binaries, for the page and its workers.
export function resolveWasmPaths(urls) {
  const paths = {};
  for (const file of WASM_FILES) paths[file] = urls[file] ?? new URL(`wasm/${file}`, document.baseURI).href;
  return paths;
}

function webglRenderer() {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    if (!gl) return null;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    return info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "unknown";
  } catch {
    return null;
  }
}

function isSoftwareRenderer(renderer) {
  return /swiftshader|llvmpipe|software|basic render/i.test(renderer);
}

async function timeProbe() {
  const input = tf.randomNormal([1, 56, 56, 64]);
  const kernel = tf.randomNormal([3, 3, 64, 64]);
  const run = () => tf.tidy(() => tf.sum(tf.conv2d(input, kernel, 1, "same"))).dataSync();
  run();
  const start = performance.now();
  for (let i = 0; i < 3; i += 1) run();
  const elapsed = performance.now() - start;
  tf.dispose([input, kernel]);
  return elapsed;
}

async function trySet(name) {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

// Returns the backend in use as {name, text, build, threads}. `requested` (e.g. from ?backend=webgl)
// skips the probe. `simd` false keeps WASM on its plain build: the page decides that for itself and
// its workers from what the browser lacks (runtime_ladder.js), before the backend starts.
export async function chooseBackend({ requested = null, wasmPaths, simd = true }) {
  setWasmPaths(wasmPaths);
  if (!simd) tf.env().set("WASM_HAS_SIMD_SUPPORT", false);
  const renderer = webglRenderer();
  const hardwareWebgl = renderer && !isSoftwareRenderer(renderer);
  const candidates = requested ? [requested] : hardwareWebgl ? ["wasm", "webgl"] : ["wasm"];
  let best = null;
  for (const name of candidates) {
    if (!(await trySet(name))) continue;
    const elapsed = candidates.length > 1 ? await timeProbe() : 0;
    if (!best || elapsed < best.elapsed) best = { name, elapsed };
  }
  if (!best && (await trySet("cpu"))) best = { name: "cpu" };
  if (!best) throw new Error("No TensorFlow.js backend could start in this browser.");
  if (tf.getBackend() !== best.name) await tf.setBackend(best.name);
  await tf.ready();
  return { name: best.name, ...(await describe(best.name, renderer)) };
}

// For a browser whose WebAssembly SIMD computes wrongly (TF.js's SIMD build failed the base model's
// self-check, runtime_ladder.js): the page's own TF.js, which trains and runs the head, moves to
// plain JavaScript, since WASM's plain build could only start after a reload. Before any tensor
// is kept: the head is made after boot.
export async function leaveWrongSimd() {
  await tf.setBackend("cpu");
  await tf.ready();
  return {
    name: "cpu",
    text: "plain JavaScript (WASM's SIMD build computes wrongly here)",
    build: "",
    threads: null,
  };
}

const BUILD_LABELS = { "threaded-simd": "threaded SIMD build", simd: "SIMD build", plain: "plain build" };

async function describeWasm() {
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  // The threaded build needs SharedArrayBuffer, i.e. a cross-origin isolated page.
  const threaded = simd && (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
  const build = threaded ? "threaded-simd" : simd ? "simd" : "plain";
  const threads = getThreadsCount();
  return {
    text: `WASM, ${BUILD_LABELS[build]}, ${threads} thread${threads === 1 ? "" : "s"}`,
    build,
    threads,
  };
}

async function describe(name, renderer) {
  if (name === "wasm") return describeWasm();
  if (name === "webgl") return { text: `WebGL (${renderer})`, build: "", threads: null };
  return { text: "plain JavaScript (slow)", build: "", threads: null };
}
