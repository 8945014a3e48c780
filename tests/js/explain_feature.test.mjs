// features/explain.js on a page without a browser: `teachkit.explain` and the occlusion test with a
// fake base model whose feature map is one class on the left half and another on the right, so
// the right answer is known; the heads are the page's own, trained on the CPU backend.
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { EMBEDDING_SIZE, addSamples, closedAfterEach, embeddingNear } from "./support/page.mjs";

const page = closedAfterEach();
const GRID = 7;
const SIZE = 28;

// openImage (media/images.js) takes an ImageBitmap as it is; Node has none.
globalThis.ImageBitmap ??= class ImageBitmap {};

// An "image" whose left half shows class `left` (an axis of the embedding) and right half `right`.
function picture(left, right) {
  return Object.assign(new ImageBitmap(), { left, right });
}

// The fake base model: the crop keeps which class is on each side; a cell's vector is near its
// side's class axis, a greyed cell (mid-grey, learning/explain.js) is zero; the embedding is the
// mean of the cells, as the real one. `delay` ms per embedding, `workers` as the pool says.
function fakeServices(page, { hasMap = true, workers = 2, delay = 0 } = {}) {
  const random = seededRandom(11);
  const vectors = new Map(); // the same image gives the same map every time
  const cellVector = (axis, cell) => {
    if (!vectors.has(`${axis} ${cell}`)) vectors.set(`${axis} ${cell}`, embeddingNear(axis, random, 0.05));
    return vectors.get(`${axis} ${cell}`);
  };
  const cropper = {
    crop(source) {
      const data = new Uint8ClampedArray(SIZE * SIZE * 4);
      for (let y = 0; y < SIZE; y += 1)
        for (let x = 0; x < SIZE; x += 1)
          data[(y * SIZE + x) * 4] = x < SIZE / 2 ? source.left : source.right;
      return { data, width: SIZE, height: SIZE, left: source.left, right: source.right };
    },
  };
  const calls = { embed: 0, embedWithMap: 0 };
  const mapOf = (pixels) => {
    const channels = EMBEDDING_SIZE;
    const map = new Float32Array(GRID * GRID * channels);
    const cell = SIZE / GRID;
    for (let row = 0; row < GRID; row += 1)
      for (let col = 0; col < GRID; col += 1) {
        const at = ((row * cell + cell / 2) * SIZE + (col * cell + cell / 2)) * 4;
        const grey = pixels.data[at + 1] === 128;
        const vector = grey ? new Float32Array(channels) : cellVector(pixels.data[at], row * GRID + col);
        map.set(vector, (row * GRID + col) * channels);
      }
    const embedding = new Float32Array(channels);
    for (let i = 0; i < map.length; i += 1) embedding[i % channels] += map[i] / (GRID * GRID);
    return { embedding, map, rows: GRID, cols: GRID };
  };
  const later = (value) => new Promise((resolve) => setTimeout(() => resolve(value), delay));
  const embedder = {
    hasMap,
    workerCount: workers,
    embed: (pixels) => {
      calls.embed += 1;
      return later(mapOf(pixels).embedding);
    },
    embedWithMap: (pixels) => {
      calls.embedWithMap += 1;
      return later(
        hasMap ? mapOf(pixels) : { embedding: mapOf(pixels).embedding, map: null, rows: 0, cols: 0 },
      );
    },
  };
  Object.assign(page.context.services, { cropper, embedder });
  return calls;
}

async function trained(options = {}, head = { hidden_units: [] }) {
  const shown = page();
  const calls = fakeServices(shown, options);
  addSamples(shown, 8, seededRandom(4));
  await shown.api.train({ head, training: { epochs: 30 } });
  return { shown, calls };
}

const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
function halves(values) {
  const left = [];
  const right = [];
  values.forEach((value, index) => {
    const col = index % GRID;
    if (col < 3) left.push(value);
    if (col > 3) right.push(value);
  });
  return { left: mean(left), right: mean(right) };
}

test("explain refuses before training, for a class the model lacks and for an unknown method", async () => {
  const fresh = page();
  fakeServices(fresh);
  await assert.rejects(fresh.api.explain(picture(0, 1)), { code: "not_trained" });
  const { shown } = await trained();
  await assert.rejects(shown.api.explain(picture(0, 1), { className: "Sand" }), {
    code: "unknown_class",
    message: 'There is no class named "Sand" (the classes: "Brick", "Grass", "Gravel").',
  });
  await assert.rejects(shown.api.explain(picture(0, 1), { method: "saliency" }), { code: "bad_argument" });
  await assert.rejects(shown.api.explain("not an image"), { code: "bad_image" });
  await assert.rejects(shown.actions.dispatch("setExplainClass", ["Sand"]), { code: "unknown_class" });
});

test("cam needs a base model with a feature map; occlusion works without one", async () => {
  const { shown } = await trained({ hasMap: false });
  await assert.rejects(shown.api.explain(picture(0, 1)), { code: "not_supported" });
  const result = await shown.api.explain(picture(0, 1), { className: "Brick", method: "occlusion" });
  assert.equal(result.rows, GRID); // a model without a map gets Lite0's grid
  assert.ok(halves(result.values).left > halves(result.values).right);
});

for (const head of [{ hidden_units: [] }, { hidden_units: [16] }, { type: "knn" }]) {
  test(`cam and occlusion find each class on its own half (${JSON.stringify(head)})`, async () => {
    const { shown } = await trained({}, head);
    for (const method of ["cam", "occlusion"]) {
      const brick = await shown.api.explain(picture(0, 1), { className: "Brick", method });
      const grass = await shown.api.explain(picture(0, 1), { className: "Grass", method });
      assert.ok(halves(brick.values).left > halves(brick.values).right, `${method} Brick`);
      assert.ok(halves(grass.values).right > halves(grass.values).left, `${method} Grass`);
    }
  });
}

test("the API's answer is plain JSON; the slice keeps the result with its regions and sentence", async () => {
  const { shown } = await trained();
  const answer = await shown.api.explain(picture(2, 2));
  assert.deepEqual(Object.keys(answer).sort(), ["className", "cols", "method", "rows", "values"]);
  assert.equal(answer.className, "Gravel"); // the class the model answers
  assert.equal(answer.method, "cam");
  assert.ok(Array.isArray(answer.values) && answer.values.length === GRID * GRID);
  assert.deepEqual(JSON.parse(JSON.stringify(answer)), answer);
  const { result } = shown.store.get().explain;
  assert.equal(result.source, "image");
  assert.equal(result.exact, true); // no hidden layer: the mean is the logit
  assert.equal(result.regions.length, 3);
  assert.match(result.sentence, /^Strongest evidence for Gravel: /);
});

test("a linear head's cam averages to the class's logit", async () => {
  const { shown } = await trained();
  const brick = await shown.api.explain(picture(0, 1), { className: "Brick" });
  const grass = await shown.api.explain(picture(0, 1), { className: "Grass" });
  // The embedding of the same image, through the same head: log-ratio of probabilities.
  const embedding = await shown.context.services.embedder.embed(
    shown.context.services.cropper.crop(picture(0, 1)),
  );
  const probabilities = shown.store.get().head.predict(embedding);
  const logRatio = Math.log(probabilities[0]) - Math.log(probabilities[1]);
  assert.ok(Math.abs(mean(brick.values) - mean(grass.values) - logRatio) < 1e-3);
});

test("occlusion goes patch by patch through the workers and stops mid-way", async () => {
  const { shown, calls } = await trained({ delay: 5, workers: 2 });
  const bitmap = picture(0, 1);
  shown.store.set({ prediction: { image: bitmap, embedding: null, featureMap: null, origin: "a.png" } });
  const seen = [];
  const measured = [];
  shown.store.subscribe((state, previous) => {
    const { occlusion } = state.explain;
    if (occlusion !== previous.explain.occlusion && occlusion.running && occlusion.patch) {
      seen.push(occlusion.done);
      // The map fills as the patches are answered: one measured drop per patch so far.
      measured.push(occlusion.drops.filter((drop) => drop !== null).length);
    }
    if (occlusion.done === 10 && occlusion.running) shown.actions.dispatch("stopOcclusion");
  });
  const before = calls.embed;
  const running = shown.actions.dispatch("startOcclusion");
  await assert.rejects(shown.actions.dispatch("startOcclusion"), { code: "busy" });
  const result = await running;
  const { occlusion } = shown.store.get().explain;
  assert.equal(occlusion.running, false);
  assert.equal(occlusion.total, GRID * GRID);
  assert.deepEqual(
    seen,
    Array.from({ length: 10 }, (_, index) => index + 1),
  ); // one update per patch
  assert.deepEqual(measured, seen);
  assert.ok(calls.embed - before <= 10 + 4, `${calls.embed - before} patches sent after the stop`);
  assert.equal(result.values.filter((value) => value === null).length, GRID * GRID - 10);
  assert.match(result.sentence, /^Stopped after 10 of 49 parts\./);
  assert.deepEqual(occlusion.patch.size, SIZE);
});

test("occlusion needs a still picture in Try it", async () => {
  const { shown } = await trained();
  await assert.rejects(shown.actions.dispatch("startOcclusion"), { code: "not_supported" });
  shown.store.set({ prediction: { image: null, embedding: null, featureMap: null, origin: "camera" } });
  await assert.rejects(shown.actions.dispatch("startOcclusion"), { code: "not_supported" });
});

test("while the heatmap is shown a live frame's map becomes a result; the class picker follows", async () => {
  const { shown, calls } = await trained();
  const { services } = shown.context;
  const { embedding, map, rows, cols } = await services.embedder.embedWithMap(
    services.cropper.crop(picture(0, 1)),
  );
  const frame = { image: null, embedding, featureMap: { map, rows, cols }, origin: "camera" };
  shown.store.set({ prediction: frame });
  assert.equal(shown.store.get().explain.result, null); // hidden: nothing computed
  await shown.actions.dispatch("setExplainShown", [true]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const before = calls.embedWithMap;
  shown.store.set({ prediction: { ...frame } });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(shown.store.get().explain.result.source, "live");
  await shown.actions.dispatch("setExplainClass", ["Grass"]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const { result } = shown.store.get().explain;
  assert.equal(result.className, "Grass");
  assert.ok(halves(result.values).right > halves(result.values).left);
  assert.equal(calls.embedWithMap, before); // from the frame's own map, no second pass
  await shown.actions.dispatch("setExplainShown", [false]);
  assert.equal(shown.store.get().explain.result, null);
});
