// Computes embeddings with the real TF.js runtime (WASM backend, as in the page) so the build can
// measure what a quantized model does to them.
// Usage: node embed_node.mjs MODEL_DIR INPUT.f32 OUTPUT.f32 SIZE WASM_DIR [MAP.f32]
// WASM_DIR holds tfjs-backend-wasm's builds; INPUT holds N×SIZE×SIZE×3 float32 pixels (0–255); OUTPUT receives N×D float32 embeddings.
// MAP, if the model names a feature map (builder/convert.py mark_feature_map), receives N×ROWS×COLS×D
// float32 from the same pass, as the page computes it. Prints {backend, count, size, map}.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { loadGraphModel } from "@tensorflow/tfjs-converter";

const [modelDir, inputPath, outputPath, sizeText, wasmDir, mapPath] = process.argv.slice(2);
const size = Number(sizeText);

async function loadArtifacts(dir) {
  const modelJson = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8"));
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      const bytes = await readFile(path.join(dir, shard));
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  return {
    modelTopology: modelJson.modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    signature: modelJson.signature,
    userDefinedMetadata: modelJson.userDefinedMetadata,
    weightSpecs,
    weightData: buffers,
  };
}

setWasmPaths(wasmDir + path.sep);
await tf.setBackend("wasm");
await tf.ready();
const model = await loadGraphModel(tf.io.fromMemory(await loadArtifacts(modelDir)));
const raw = await readFile(inputPath);
const pixels = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const count = pixels.length / (size * size * 3);
const input = tf.tensor4d(pixels, [count, size, size, 3]);
const mapNode = mapPath ? model.metadata?.featureMap?.node : undefined;
const [output, map] = mapNode
  ? model.execute(input, [model.outputNodes[0], mapNode])
  : [model.predict(input)];
const values = await output.data();
await writeFile(outputPath, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
if (map) {
  const mapValues = await map.data();
  await writeFile(mapPath, Buffer.from(mapValues.buffer, mapValues.byteOffset, mapValues.byteLength));
}
console.log(
  JSON.stringify({ backend: tf.getBackend(), count, size: values.length / count, map: Boolean(map) }),
);
