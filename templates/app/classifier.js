// teachkit-classifier.js: runs a model download (from the page's "Download model") in any page,
// with no teaching page around it: `const model = await load(source)`, then `model.classify(image)`
// → [{label, confidence}] sorted (ml5's shape) or `model.predict(image)` → {label, confidence,
// confidences} (for a regression model {value, label, unit}). `source` is the download's zip (a URL, File or Blob) or the URL of its unzipped
// folder. Crops and feeds images exactly as the teaching page does.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { loadGraphModel } from "@tensorflow/tfjs-converter";
import { loadLayersModel } from "@tensorflow/tfjs-layers";
import { strFromU8, unzipSync } from "fflate";
import { TeachkitError } from "./core/errors.js";
import { Cropper } from "./media/crop.js";
import { nearest } from "./learning/dataset.js";
import { openImage } from "./media/images.js";
import { MODEL_FORMAT, MODEL_VERSION } from "./files/model_file.js";

const WASM_FILES = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
];

// The files of a download, by name: from a zip's bytes, or fetched from a folder URL.
async function downloadFiles(source) {
  if (source instanceof Blob) return unzipSync(new Uint8Array(await source.arrayBuffer()));
  const url = new URL(String(source), document.baseURI);
  if (url.pathname.endsWith(".zip")) return unzipSync(new Uint8Array(await (await fetch(url)).arrayBuffer()));
  return {
    fetchFrom: url.href.endsWith("/") ? url.href : `${url.href}/`,
  };
}

async function fileText(files, name) {
  if (files.fetchFrom) {
    const response = await fetch(new URL(name, files.fetchFrom));
    if (!response.ok) throw new Error(`${name}: ${response.status} ${response.statusText}`);
    return response.text();
  }
  if (!files[name]) throw new Error(`the download has no ${name}`);
  return strFromU8(files[name]);
}

function fileBytes(files, name) {
  if (files.fetchFrom)
    return fetch(new URL(name, files.fetchFrom)).then((response) => response.arrayBuffer());
  if (!files[name]) throw new Error(`the download has no ${name}`);
  return files[name].slice().buffer;
}

// A graph or layers model from the download's `folder`/model.json and its one weights.bin.
async function modelHandler(files, folder) {
  if (files.fetchFrom) return new URL(`${folder}/model.json`, files.fetchFrom).href;
  const json = JSON.parse(await fileText(files, `${folder}/model.json`));
  // The signature too: a base model's names its one output, the embedding (its feature map is a
  // second graph output that `predict` must not return; metadata names it).
  return tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: await fileBytes(files, `${folder}/weights.bin`),
    format: json.format,
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
  });
}

async function chooseBackend(wasmBase) {
  if (wasmBase) {
    setWasmPaths(Object.fromEntries(WASM_FILES.map((file) => [file, new URL(file, wasmBase).href])));
    try {
      if (await tf.setBackend("wasm")) return;
    } catch {
      // falls back to plain JavaScript below
    }
  }
  await tf.setBackend("cpu");
}

function knnHead(embeddings, labels, size, k, count) {
  const samples = labels.map((label, index) => ({
    label,
    embedding: embeddings.subarray(index * size, (index + 1) * size),
  }));
  return (embedding) => {
    const votes = new Array(count).fill(0);
    const near = nearest(samples, embedding, Math.min(k, samples.length));
    for (const { sample } of near) votes[sample.label] += 1 / near.length;
    return votes;
  };
}

// Resolves to {labels, metadata, predict(image), classify(image), dispose()}. `wasmBase` is the
// folder of TF.js's WASM binaries (a teachkit site's wasm/); without it, plain JavaScript runs.
export async function load(source, { wasmBase = null } = {}) {
  let files;
  let metadata;
  try {
    files = await downloadFiles(source);
    metadata = JSON.parse(await fileText(files, "metadata.json"));
  } catch (error) {
    throw new TeachkitError(
      "bad_argument",
      `This is not a teachkit model download, or it is damaged (${error.message}).`,
    );
  }
  if (metadata.format !== MODEL_FORMAT || metadata.version !== MODEL_VERSION)
    throw new TeachkitError(
      "bad_argument",
      "This is not a teachkit model download of a version this script reads.",
    );
  await chooseBackend(wasmBase);
  const { labels } = metadata;
  const inputSize = metadata.base.input_size;
  const base = await loadGraphModel(await modelHandler(files, "base"));
  let head;
  let layersModel = null;
  const regression = metadata.head.kind === "regression" ? metadata.regression : null;
  if (metadata.head.kind !== "knn") {
    layersModel = await loadLayersModel(await modelHandler(files, "head"));
    head = (embedding) =>
      tf.tidy(() =>
        Array.from(layersModel.predict(tf.tensor2d(embedding, [1, embedding.length])).dataSync()),
      );
  } else {
    const size = metadata.base.embedding_size;
    const embeddings = new Float32Array(await fileBytes(files, "knn/embeddings.f32"));
    const sampleLabels = JSON.parse(await fileText(files, "knn/labels.json"));
    head = knnHead(embeddings, sampleLabels, size, metadata.head.config.k, labels.length);
  }
  const cropper = new Cropper(inputSize);
  const embed = (pixels) =>
    tf.tidy(() =>
      base
        .predict(tf.expandDims(tf.cast(tf.browser.fromPixels(pixels), "float32"), 0))
        .dataSync()
        .slice(),
    );

  async function predict(image) {
    const opened = await openImage(image);
    let probabilities;
    try {
      probabilities = head(embed(cropper.crop(opened.source)));
    } finally {
      opened.close();
    }
    // A regression model's one output is the number itself.
    if (regression) return { value: probabilities[0], label: regression.label, unit: regression.unit };
    const confidences = Object.fromEntries(labels.map((label, index) => [label, probabilities[index]]));
    const best = probabilities.indexOf(Math.max(...probabilities));
    return { label: labels[best], confidence: probabilities[best], confidences };
  }

  return {
    labels,
    metadata,
    predict,
    async classify(image) {
      if (regression)
        throw new TeachkitError(
          "not_supported",
          "This model predicts a number, not classes: use predict(image).",
        );
      const { confidences } = await predict(image);
      return Object.entries(confidences)
        .map(([label, confidence]) => ({ label, confidence }))
        .sort((a, b) => b.confidence - a.confidence);
    },
    dispose() {
      base.dispose();
      layersModel?.dispose();
    },
  };
}
