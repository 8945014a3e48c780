// The pool (runtime/embedder.js) and the model workers' message loop (runtime/model_worker.js) hand
// out the feature map only on request, from the model's one pass, and a plain embed stays as it was.
// The worker runs in this thread: a stand-in Worker delivers the messages both ways.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startWorkerPool } from "../../templates/app/runtime/embedder.js";
import { serveModel } from "../../templates/app/runtime/model_worker.js";

globalThis.ImageData ??= class {
  constructor(data, width, height) {
    Object.assign(this, { data, width, height });
  }
};

// A base model of 2 × 2 cells and 3 channels: cell (r, c) holds r * 10 + c + channel / 10, the
// embedding is their mean. Counts its runs.
function fakeModel(hasMap) {
  const runs = { embed: 0, embedWithMap: 0 };
  const map = Float32Array.from(
    { length: 12 },
    (_, i) => Math.floor(i / 6) * 10 + (Math.floor(i / 3) % 2) + (i % 3) / 10,
  );
  const mean = Float32Array.from([0, 1, 2], (k) => (map[k] + map[3 + k] + map[6 + k] + map[9 + k]) / 4);
  return {
    runs,
    hasMap,
    embed: async () => (runs.embed++, mean.slice()),
    embedWithMap: async () => (
      runs.embedWithMap++,
      hasMap
        ? { embedding: mean.slice(), map: map.slice(), rows: 2, cols: 2 }
        : { embedding: mean.slice(), map: null, rows: 0, cols: 0 }
    ),
  };
}

// Runs serveModel as a worker would, in this thread; records what the worker transfers.
function fakeWorkerClass(model, transfers) {
  return class {
    constructor() {
      globalThis.self = {};
      globalThis.postMessage = (data, moved = []) => {
        transfers.push({ type: data.type, moved });
        queueMicrotask(() => this.onmessage?.({ data }));
      };
      serveModel(async () => model);
      this.scope = globalThis.self;
    }

    postMessage(data) {
      queueMicrotask(() => this.scope.onmessage({ data }));
    }

    terminate() {}
  };
}

async function pool(model, transfers = []) {
  globalThis.Worker = fakeWorkerClass(model, transfers);
  return startWorkerPool({
    workers: 1,
    workerUrl: "model-worker.js",
    load: { inputSize: 2 },
    warmUp: Promise.resolve(new Uint8ClampedArray(16)),
    check: async () => {},
    onChange: () => {},
  });
}

const pixels = () => new ImageData(new Uint8ClampedArray(16), 2, 2);

test("a plain embed answers the embedding alone and never reads the map", async () => {
  const model = fakeModel(true);
  const transfers = [];
  const embedder = await pool(model, transfers);

  const embedding = await embedder.embed(pixels());

  assert.ok(embedding instanceof Float32Array);
  assert.deepEqual(Array.from(embedding), Array.from(await fakeModel(true).embed()));
  assert.equal(model.runs.embedWithMap, 0);
  assert.equal(transfers.at(-1).moved.length, 1);
  assert.equal(embedder.hasMap, true);
});

test("embedWithMap answers the map of the same run, row-major, channels last", async () => {
  const model = fakeModel(true);
  const transfers = [];
  const embedder = await pool(model, transfers);

  const { embedding, map, rows, cols } = await embedder.embedWithMap(pixels());

  assert.equal(model.runs.embedWithMap, 1);
  assert.equal(model.runs.embed, 1); // the warm-up only
  assert.deepEqual([rows, cols, map.length], [2, 2, 12]);
  const channels = map.length / (rows * cols);
  // The cell at row 1, column 0, channel 2.
  assert.ok(Math.abs(map[(1 * cols + 0) * channels + 2] - 10.2) < 1e-6);
  for (let k = 0; k < channels; k += 1) {
    let sum = 0;
    for (let cell = 0; cell < rows * cols; cell += 1) sum += map[cell * channels + k];
    assert.ok(Math.abs(sum / (rows * cols) - embedding[k]) < 1e-6);
  }
  assert.equal(transfers.at(-1).moved.length, 2); // both move, neither is copied
});

test("a base model without a map says so and still embeds", async () => {
  const embedder = await pool(fakeModel(false));

  assert.equal(embedder.hasMap, false);
  const answer = await embedder.embedWithMap(pixels());
  assert.deepEqual([answer.map, answer.rows, answer.cols], [null, 0, 0]);
  assert.equal(answer.embedding.length, 3);
});
