// UMAP (umap-js) in a worker: a few seconds of work for a thousand samples, which would freeze the
// page on its own thread. Started only when the visitor (or a script) asks for the refined map.
// In: {type: "fit", vectors: Float32Array (n × size), size, seed}. Out: {type: "progress", epoch,
// epochs}, then {type: "done", places: Float32Array (n × 2)} or {type: "failed", message}.
import { UMAP } from "umap-js";
import { cosineSimilarity, seededRandom } from "./learning/dataset.js";

const NEIGHBORS = 15;

// Cosine distance, as the page compares embeddings everywhere else.
function cosineDistance(a, b) {
  return 1 - cosineSimilarity(a, b);
}

function fit({ vectors, size, seed }) {
  const count = vectors.length / size;
  const rows = Array.from({ length: count }, (_, index) =>
    Array.from(vectors.subarray(index * size, (index + 1) * size)),
  );
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(NEIGHBORS, count - 1)),
    minDist: 0.1,
    distanceFn: cosineDistance,
    random: seededRandom(seed),
  });
  const epochs = umap.initializeFit(rows);
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    umap.step();
    if (epoch % 20 === 0) postMessage({ type: "progress", epoch, epochs });
  }
  const places = new Float32Array(count * 2);
  umap.getEmbedding().forEach(([x, y], index) => {
    places[index * 2] = x;
    places[index * 2 + 1] = y;
  });
  return places;
}

self.onmessage = ({ data }) => {
  try {
    const places = fit(data);
    postMessage({ type: "done", places }, [places.buffer]);
  } catch (error) {
    postMessage({ type: "failed", message: error.message });
  }
};
