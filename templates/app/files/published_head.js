// A published model's head, made from its files on the receiver for this page's embeddings. Used
// by the features that open published models: the cloud (one model that answers "Try it") and the
// teacher's view (every submission of a class).
import { restoreHead } from "../learning/head.js";

export function describeBase(identity) {
  if (!identity) return "an unknown base model";
  const name = identity.base ?? (identity.custom ? "a custom base model" : "an unknown base model");
  const size = identity.input_size ? `, ${identity.input_size}×${identity.input_size}` : "";
  const digest = identity.model_json_sha256 ? `, model ${identity.model_json_sha256.slice(0, 12)}` : "";
  return `${name}${size}${digest}`;
}

// The dense head's kernels and biases, in order, from its TF.js layers model files.
export function layersWeights(modelJson, bytes) {
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const weights = [];
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((product, size) => product * size, 1);
    if ((spec.dtype ?? "float32") !== "float32" || offset + count * 4 > bytes.byteLength)
      throw new Error(`its weight ${spec.name} does not fit its file`);
    weights.push(
      new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + count * 4)),
    );
    offset += count * 4;
  }
  return weights;
}

// The published model's head, made for this page's embeddings: {head, names}.
export async function openedHead(client, id, metadata, embeddingSize) {
  const classIds = metadata.labels.map((_, index) => `cloud-${index}`);
  const names = new Map(classIds.map((classId, index) => [classId, metadata.labels[index]]));
  const { kind, config } = metadata.head;
  if (kind === "dense") {
    const modelJson = JSON.parse(await client.text(id, "head/model.json"));
    const weights = layersWeights(modelJson, await client.bytes(id, "head/weights.bin"));
    return { head: restoreHead({ kind, config, classIds, weights }, embeddingSize, []), names };
  }
  if (kind === "knn") {
    const matrix = await client.bytes(id, "knn/embeddings.f32");
    const embeddings = new Float32Array(matrix.buffer, matrix.byteOffset, matrix.byteLength / 4);
    const labels = JSON.parse(await client.text(id, "knn/labels.json"));
    const samples = labels.map((label, index) => ({
      classId: classIds[label],
      embedding: embeddings.subarray(index * embeddingSize, (index + 1) * embeddingSize),
    }));
    return { head: restoreHead({ kind, config, classIds }, embeddingSize, samples), names };
  }
  throw new Error(`its head is of a kind this page does not know (${kind})`);
}
