// The model download: the trained head as a TF.js layers model (or, for k nearest neighbours, its
// samples' embeddings and labels), the base graph model, labels.txt, metadata.json and a README
// with the plain TF.js code that runs it, in one zip. Made in the page; nothing is sent anywhere.
import * as tf from "@tensorflow/tfjs-core";
import { layers, sequential } from "@tensorflow/tfjs-layers";
import { strToU8, zipSync } from "fflate";

export const MODEL_FORMAT = "teachkit-model";
export const MODEL_VERSION = 1;

// The dense head as a tfjs-layers Sequential model, saved to {modelJson, weights}: class
// probabilities (softmax), or for a regression head the number itself (one linear output).
async function denseHeadFiles(model, embeddingSize) {
  const { hidden_units: hidden, activation } = model.config;
  const units = [...hidden, model.classIds.length];
  const output = model.kind === "regression" ? "linear" : "softmax";
  const network = sequential({
    layers: units.map((size, index) =>
      layers.dense({
        units: size,
        activation: index === units.length - 1 ? output : activation,
        ...(index === 0 ? { inputShape: [embeddingSize] } : {}),
      }),
    ),
  });
  const sizes = [embeddingSize, ...units];
  const weights = model.weights.map((values, index) =>
    index % 2 === 0 ? tf.tensor2d(values, [sizes[index / 2], sizes[index / 2 + 1]]) : tf.tensor1d(values),
  );
  try {
    network.setWeights(weights);
    let saved;
    await network.save(
      tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: {} })),
    );
    const modelJson = {
      format: "layers-model",
      generatedBy: saved.generatedBy,
      convertedBy: null,
      modelTopology: saved.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: saved.weightSpecs }],
    };
    return { modelJson, weights: new Uint8Array(saved.weightData) };
  } finally {
    tf.dispose(weights);
    network.dispose();
  }
}

// The base graph model as {modelJson, weights}: fetched (hosted) or from the page (single file).
async function baseModelFiles(source) {
  if (typeof source !== "string") {
    const { weightData, weightSpecs, ...rest } = source;
    return {
      modelJson: { ...rest, weightsManifest: [{ paths: ["weights.bin"], weights: weightSpecs }] },
      weights: new Uint8Array(weightData),
    };
  }
  const modelJson = await (await fetch(source)).json();
  const shards = modelJson.weightsManifest.flatMap((group) => group.paths);
  const parts = await Promise.all(
    shards.map(async (path) => new Uint8Array(await (await fetch(new URL(path, source))).arrayBuffer())),
  );
  const weights = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (weights.set(part, offset), offset + part.length), 0);
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  return {
    modelJson: { ...modelJson, weightsManifest: [{ paths: ["weights.bin"], weights: specs }] },
    weights,
  };
}

// The README's "Where the model looked": the page's class activation map ("cam",
// learning/explain.js) in plain TF.js, from the base model's second output.
function whereItLooked({ kind, regression, inputSize }) {
  const intro = `## Where the model looked

The base model has a second output: its last feature map, a grid of cells (7 × 7 for a 224-pixel
input) of which the embedding is the mean. The same pass gives both, by the node that base/model.json
names in its metadata. A heatmap like the one the page draws under "Why?" (its "cam" method, and
\`teachkit.explain(image, {className})\`) comes from it.`;
  if (kind === "knn")
    return `${intro}

For this k-nearest-neighbour head a cell's value is its cosine with the class's reference minus its
best cosine with another class's reference, where a class's reference is the unit direction of the
mean of its k training samples most similar to the whole image (the samples that vote). The
embedding and the cells come from one call:
\`const [embedding, map] = base.execute(pixels, [base.outputNodes[0], base.metadata.featureMap.node]);\`
`;
  const what = regression ? "the number" : "the class's logit (its score before the softmax)";
  return `${intro}

For this head, cell = α·f + (score − α·e), where e is the embedding, f a cell's vector, score ${what}
and α its gradient with respect to e, through the head only. Without hidden layers α is the last
layer's kernel column and the constant its bias: each cell is exactly what the head answers for that
region alone, and the mean of the cells is the score. Larger values mean more evidence${regression ? " for a larger number" : " for the class"};
scale the map to its own range to show it.

\`\`\`js
// canvas: the ${inputSize}-pixel centre square, as in classify() above.${regression ? "" : " index: the class's position in labels."}
function whereItLooked(canvas${regression ? "" : ", index"}) {
  return tf.tidy(() => {
    const pixels = tf.browser.fromPixels(canvas).toFloat().expandDims(0);
    const [embedding, map] = base.execute(pixels, [base.outputNodes[0], base.metadata.featureMap.node]);
    // The score: the head's layers, the last one without its ${regression ? "(linear) activation" : "softmax"}.
    const score = (e) => {
      const layers = head.layers;
      const hidden = layers.slice(0, -1).reduce((x, layer) => layer.apply(x), e);
      const [kernel, bias] = layers[layers.length - 1].getWeights();
      return hidden.matMul(kernel).add(bias).slice([0, ${regression ? "0" : "index"}], [1, 1]).sum();
    };
    const { value, grad: alpha } = tf.valueAndGrad(score)(embedding);
    const [, rows, cols, channels] = map.shape;
    const constant = value.sub(alpha.mul(embedding).sum());
    const cells = map.reshape([rows * cols, channels]).matMul(alpha.reshape([channels, 1])).add(constant);
    return { rows, cols, values: cells.dataSync() }; // row-major from the top-left of the square
  });
}
\`\`\`
`;
}

function readme({ title, labels, inputSize, kind, k, regression }) {
  const head =
    kind !== "knn"
      ? 'const head = await tf.loadLayersModel("head/model.json");'
      : `// A k-nearest-neighbour head: the samples' embeddings vote, the k most similar (cosine).
const samples = new Float32Array(await (await fetch("knn/embeddings.f32")).arrayBuffer());
const sampleLabels = await (await fetch("knn/labels.json")).json();
const k = ${k};
const head = {
  predict(embedding) {
    const e = embedding.dataSync();
    const norm = (v) => Math.hypot(...v) || 1;
    const similar = sampleLabels.map((label, i) => {
      const s = samples.subarray(i * e.length, (i + 1) * e.length);
      return [s.reduce((sum, x, j) => sum + x * e[j], 0) / (norm(s) * norm(e)), label];
    });
    const votes = new Array(labels.length).fill(0);
    similar.sort((a, b) => b[0] - a[0]).slice(0, k).forEach(([, label]) => (votes[label] += 1 / k));
    return tf.tensor1d(votes);
  },
};`;
  return `# ${title}: a model trained with teachkit

${
  regression
    ? `A regression model: it predicts one number, ${regression.label}${regression.unit ? ` in ${regression.unit}` : ""} (trained on values from ${regression.min} to ${regression.max}).`
    : `Classes, in the order of the model's outputs: ${labels.join(", ")}.`
}

- base/ — the base model (a TF.js graph model): a ${inputSize}×${inputSize} RGB image with values
  0–255 (it normalizes inside) → one embedding.
- ${kind === "knn" ? "knn/ — the samples of the k-nearest-neighbour head: their embeddings and labels." : `head/ — the trained head (a TF.js layers model): embedding → ${regression ? "the number" : "class probabilities"}.`}
- metadata.json — labels, the base model's identity, the head's settings and training history.

Run it with plain TF.js (served from a web server, next to this folder):

\`\`\`js
import * as tf from "@tensorflow/tfjs";

const base = await tf.loadGraphModel("base/model.json");
${head}
const { labels } = await (await fetch("metadata.json")).json();

// image: an <img>, <canvas> or <video>. Crop the centre square and resize it, as teachkit does.
function classify(image) {
  const size = ${inputSize};
  const width = image.videoWidth || image.naturalWidth || image.width;
  const height = image.videoHeight || image.naturalHeight || image.height;
  const side = Math.min(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(image, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
  return tf.tidy(() => {
    const pixels = tf.browser.fromPixels(canvas).toFloat().expandDims(0); // 0–255
    const probabilities = head.predict(base.predict(pixels)).dataSync();${regression ? "\n    return probabilities[0]; // the number: a regression model has one output" : ""}
    return labels
      .map((label, i) => ({ label, confidence: probabilities[i] }))
      .sort((a, b) => b.confidence - a.confidence);
  });
}
\`\`\`

${whereItLooked({ kind, regression, inputSize })}
Or, in a page: \`import { load } from "https://…/embed.js"; const model = await load("this-file.zip");
await model.classify(image)\`. In Python: \`teachkit export this-file.zip --format keras -o out\`.
`;
}

// Resolves to the zip (a Blob) of the trained head `record` on the base model `modelSource`.
export async function modelDownload({
  title,
  record,
  classNames,
  identity,
  embeddingSize,
  modelSource,
  teachkitVersion,
  samples,
  regression = null,
}) {
  const labels = record.classIds.map((id) => classNames.get(id) ?? "?");
  const kind = record.model.kind;
  const files = {};
  if (kind !== "knn") {
    const head = await denseHeadFiles(record.model, embeddingSize);
    files["head/model.json"] = strToU8(JSON.stringify(head.modelJson));
    files["head/weights.bin"] = head.weights;
  } else {
    const own = samples.filter((sample) => record.classIds.includes(sample.classId));
    const matrix = new Float32Array(own.length * embeddingSize);
    own.forEach((sample, index) => matrix.set(sample.embedding, index * embeddingSize));
    files["knn/embeddings.f32"] = new Uint8Array(matrix.buffer);
    files["knn/labels.json"] = strToU8(
      JSON.stringify(own.map((sample) => record.classIds.indexOf(sample.classId))),
    );
  }
  const base = await baseModelFiles(modelSource);
  files["base/model.json"] = strToU8(JSON.stringify(base.modelJson));
  files["base/weights.bin"] = [base.weights, { level: 0 }];
  const metadata = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    teachkitVersion,
    title,
    labels,
    task: regression ? "regression" : "classification",
    regression,
    base: identity,
    head: { kind, config: record.model.config, history: record.history, evaluation: record.evaluation },
  };
  files["metadata.json"] = strToU8(JSON.stringify(metadata, null, 1));
  files["labels.txt"] = strToU8(`${labels.join("\n")}\n`);
  files["README.md"] = strToU8(
    readme({ title, labels, inputSize: identity.input_size, kind, k: record.model.config.k, regression }),
  );
  return new Blob([zipSync(files, { level: 6 })], { type: "application/zip" });
}
