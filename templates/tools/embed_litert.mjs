// Computes embeddings with LiteRT.js's own runtime (one of its WebAssembly builds, as in the page)
// so the build can measure what an int8 .tflite does to them, and how long one image takes.
// Usage: node embed_litert.mjs MODEL.tflite INPUT.f32 OUTPUT.f32 SIZE BUILD WASM_DIR [MAP.f32]
// BUILD is "relaxed" (needs relaxed SIMD, on by default since Node.js 22) or "compat"; WASM_DIR holds
// LiteRT.js's glue scripts and WebAssembly builds; INPUT holds N×SIZE×SIZE×3 float32 pixels
// (0–255); OUTPUT receives N×D float32 embeddings; MAP, if the model has a second output (the
// feature map, rank 4), receives N×ROWS×COLS×D float32 of it. The timing does not read the map, as
// live prediction does not. Prints {build, count, size, milliseconds, map}.
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import { loadAndCompile, loadLiteRt, Tensor } from "@litertjs/core";

const GLUE = { relaxed: "litert_wasm_internal.js", compat: "litert_wasm_compat_internal.js" };
const REPEATS = 5; // timed passes over the probes after a warm-up; the median is printed

const [modelPath, inputPath, outputPath, sizeText, build, wasmDir, mapPath] = process.argv.slice(2);
const size = Number(sizeText);
if (!GLUE[build]) throw new Error(`unknown LiteRT.js build ${build}`);

// LiteRT.js loads its Emscripten glue as a classic script (importScripts in a worker, a <script>
// on a page); Node.js has neither, so the glue runs in this context, where it defines ModuleFactory
// (and, seeing Node.js, asks for CommonJS's require and __dirname).
globalThis.self = globalThis;
globalThis.require = createRequire(import.meta.url);
globalThis.__dirname = wasmDir;
globalThis.importScripts = (file) => vm.runInThisContext(readFileSync(file, "utf8"), { filename: file });
globalThis.Module = { wasmBinary: readFileSync(path.join(wasmDir, GLUE[build].replace(/\.js$/, ".wasm"))) };
await loadLiteRt(path.join(wasmDir, GLUE[build]));
const model = await loadAndCompile(new Uint8Array(await readFile(modelPath)), { accelerator: "wasm" });
// The embedding is the rank-2 output and the map the rank-4 one, whatever their order.
const details = model.getOutputDetails();
const embeddingIndex = details.findIndex((detail) => detail.shape.length === 2);
const mapIndex = details.findIndex((detail) => detail.shape.length === 4);

const raw = await readFile(inputPath);
const pixels = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const perImage = size * size * 3;
const count = pixels.length / perImage;

async function embed(index, maps = null) {
  const input = new Tensor(pixels.slice(index * perImage, (index + 1) * perImage), [1, size, size, 3]);
  const outputs = await model.run(input);
  const values = outputs[embeddingIndex].toTypedArray().slice();
  if (maps && mapIndex >= 0) maps.push(outputs[mapIndex].toTypedArray().slice());
  input.delete();
  for (const output of outputs) output.delete();
  return values;
}

const embeddings = [];
const maps = [];
for (let i = 0; i < count; i += 1) embeddings.push(await embed(i, maps)); // also the warm-up
const times = [];
for (let pass = 0; pass < REPEATS; pass += 1) {
  const start = performance.now();
  for (let i = 0; i < count; i += 1) await embed(i);
  times.push((performance.now() - start) / count);
}
times.sort((a, b) => a - b);
const dimension = embeddings[0].length;
const out = new Float32Array(count * dimension);
embeddings.forEach((values, i) => out.set(values, i * dimension));
await writeFile(outputPath, Buffer.from(out.buffer));
const withMap = Boolean(mapPath) && maps.length === count;
if (withMap) {
  const mapOut = new Float32Array(count * maps[0].length);
  maps.forEach((values, i) => mapOut.set(values, i * maps[0].length));
  await writeFile(mapPath, Buffer.from(mapOut.buffer));
}
console.log(
  JSON.stringify({ build, count, size: dimension, milliseconds: times[REPEATS >> 1], map: withMap }),
);
