// What the WASM backend really runs with, for the page to show. No DOM: used in workers too.
import * as tf from "@tensorflow/tfjs-core";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";

const BUILD_LABELS = { "threaded-simd": "threaded SIMD build", simd: "SIMD build", plain: "plain build" };

export async function describeWasm() {
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
