// The base model's own ImageNet classifier (builder/imagenet.py): embedding → the 1,000 ImageNet
// classes, named as WordNet 3.0 synsets. Plain typed arrays: one product of a 1280-vector with a
// 1280×1000 matrix takes a few milliseconds and owns no tensors.
import { readEmbeddedImagenet } from "../files/inlined.js";

// The files, by name: fetched from the site's imagenet/ folder, or read from the single file.
async function readFiles(source) {
  const names = ["classifier.json", "classifier.bin", "synsets.json"];
  if (typeof source !== "string") return readEmbeddedImagenet(source);
  const entries = await Promise.all(
    names.map(async (name) => {
      const response = await fetch(new URL(name, source));
      if (!response.ok) throw new Error(`${name}: ${response.status} ${response.statusText}`);
      return [name, new Uint8Array(await response.arrayBuffer())];
    }),
  );
  return Object.fromEntries(entries);
}

// The kernel as float32 [inputs × classes], the bias [classes].
function weights(info, bytes) {
  const { inputs, classes } = info;
  const kernel = new Float32Array(inputs * classes);
  const floats = (offset, count) =>
    new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + count * 4));
  let offset;
  if (info.encoding === "uint8") {
    const low = floats(inputs * classes, classes);
    const scale = floats(inputs * classes + classes * 4, classes);
    for (let i = 0; i < inputs * classes; i += 1)
      kernel[i] = bytes[i] * scale[i % classes] + low[i % classes];
    offset = inputs * classes + classes * 8;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    for (let i = 0; i < inputs * classes; i += 1) kernel[i] = halfToFloat(view.getUint16(i * 2, true));
    offset = inputs * classes * 2;
  }
  return { kernel, bias: floats(offset, classes) };
}

function halfToFloat(half) {
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  const sign = half & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

// Resolves to {licence, topK(embedding, k) → [{synset, name, definition, path, probability}]}.
// `source` is the URL of the site's imagenet/ folder, or the single file's document.
export async function loadImagenet(source) {
  const files = await readFiles(source);
  const text = (name) => new TextDecoder().decode(files[name]);
  const info = JSON.parse(text("classifier.json"));
  const { synsets, licence } = JSON.parse(text("synsets.json"));
  const { kernel, bias } = weights(info, files["classifier.bin"]);
  const { inputs, classes } = info;
  return {
    licence,
    topK(embedding, k = 5) {
      if (embedding.length !== inputs)
        throw new Error(`an embedding of ${embedding.length} values, not ${inputs}`);
      const logits = Float64Array.from(bias);
      for (let i = 0; i < inputs; i += 1) {
        const value = embedding[i];
        const row = i * classes;
        for (let j = 0; j < classes; j += 1) logits[j] += value * kernel[row + j];
      }
      const top = Math.max(...logits);
      let sum = 0;
      for (let j = 0; j < classes; j += 1) sum += logits[j] = Math.exp(logits[j] - top);
      return Array.from(logits.keys())
        .sort((a, b) => logits[b] - logits[a])
        .slice(0, k)
        .map((index) => ({
          synset: synsets[index].id,
          name: synsets[index].name,
          definition: synsets[index].definition,
          path: [...synsets[index].path],
          probability: logits[index] / sum,
        }));
    },
  };
}
