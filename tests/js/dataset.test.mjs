// dataset.js: the classes and samples, the seeded split and the nearest samples.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Dataset,
  cosineSimilarity,
  nearest,
  newId,
  seededRandom,
  shuffled,
  typicalSimilarity,
} from "../../templates/app/learning/dataset.js";

function datasetOf(sizes) {
  const classes = sizes.map((_, index) => ({ id: `c${index}`, name: `Class ${index}` }));
  const samples = sizes.flatMap((size, index) =>
    Array.from({ length: size }, (_, n) => ({
      id: `c${index}-${n}`,
      classId: `c${index}`,
      embedding: Float32Array.of(index, n),
    })),
  );
  return new Dataset(classes, samples);
}

test("an id is a version-4 UUID even where crypto.randomUUID is missing (plain http)", () => {
  const original = crypto.randomUUID;
  crypto.randomUUID = undefined; // as in an insecure context
  try {
    assert.equal(typeof crypto.randomUUID, "undefined");
    const ids = new Set(Array.from({ length: 50 }, newId));
    assert.equal(ids.size, 50);
    for (const id of ids)
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  } finally {
    crypto.randomUUID = original;
  }
});

test("a seed gives the same numbers and the same shuffle every time", () => {
  const first = seededRandom(7);
  const second = seededRandom(7);
  const numbers = Array.from({ length: 20 }, () => first());
  assert.deepEqual(
    numbers,
    Array.from({ length: 20 }, () => second()),
  );
  assert.ok(numbers.every((value) => value >= 0 && value < 1));
  assert.notDeepEqual(numbers, Array.from({ length: 20 }, seededRandom(8)));
  const items = Array.from({ length: 10 }, (_, index) => index);
  const once = shuffled(items, seededRandom(3));
  assert.deepEqual(once, shuffled(items, seededRandom(3)));
  assert.deepEqual(
    [...once].sort((a, b) => a - b),
    items,
  );
  assert.deepEqual(items, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("the split holds back the same share of each class and never a class's last sample", () => {
  const dataset = datasetOf([10, 4, 1, 0]);
  const { training, validation } = dataset.split(0.25, 42);
  const count = (samples, classId) => samples.filter((sample) => sample.classId === classId).length;
  assert.deepEqual(
    ["c0", "c1", "c2", "c3"].map((id) => [count(training, id), count(validation, id)]),
    [
      [8, 2],
      [3, 1],
      [1, 0],
      [0, 0],
    ],
  );
  const again = dataset.split(0.25, 42);
  assert.deepEqual(
    again.validation.map((sample) => sample.id),
    validation.map((sample) => sample.id),
  );
  assert.equal(datasetOf([10]).split(0.5, 1).training.length, 5);
  assert.equal(datasetOf([2]).split(0.9, 1).training.length, 1);
  assert.equal(datasetOf([6]).split(0, 1).validation.length, 0);
});

test("a change makes a new dataset and leaves the old one as it was", () => {
  const dataset = datasetOf([2, 3]);
  const renamed = dataset.withRenamed("c1", "Grass");
  assert.equal(dataset.classById("c1").name, "Class 1");
  assert.equal(renamed.classById("c1").name, "Grass");
  assert.ok(renamed.hasName("  grass "));
  assert.ok(!renamed.hasName("grass", "c1"));
  const without = dataset.withoutClass("c0");
  assert.deepEqual(without.counts(), { c1: 3 });
  assert.deepEqual(dataset.counts(), { c0: 2, c1: 3 });
  assert.deepEqual(dataset.withoutSamplesOf("c1").counts(), { c0: 2, c1: 0 });
  assert.equal(dataset.withoutSample("c0-1").samples.length, 4);
  assert.equal(dataset.withClass({ id: "c9", name: "New" }).classes.length, 3);
});

test("cosine similarity is 1 for the same direction, -1 for opposite and 0 against zeros", () => {
  assert.equal(cosineSimilarity([1, 2], [2, 4]), 1);
  assert.equal(cosineSimilarity([1, 0], [-3, 0]), -1);
  assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
});

test("nearest gives the most similar samples first, as many as asked", () => {
  const samples = [
    { id: "right", embedding: Float32Array.of(1, 0) },
    { id: "up", embedding: Float32Array.of(0, 1) },
    { id: "diagonal", embedding: Float32Array.of(1, 1) },
    { id: "left", embedding: Float32Array.of(-1, 0) },
  ];
  const found = nearest(samples, Float32Array.of(2, 0.1), 3);
  assert.deepEqual(
    found.map((item) => item.sample.id),
    ["right", "diagonal", "up"],
  );
  assert.ok(Math.abs(found[0].similarity - 2 / Math.hypot(2, 0.1)) < 1e-6);
  assert.equal(nearest(samples, Float32Array.of(1, 0), 10).length, 4);
});

test("a class's typical similarity is the median of each sample's nearest neighbour", () => {
  const dataset = new Dataset(
    [
      { id: "a", name: "A" },
      { id: "b", name: "B" },
    ],
    [
      { id: "1", classId: "a", embedding: Float32Array.of(1, 0) },
      { id: "2", classId: "a", embedding: Float32Array.of(1, 0) },
      { id: "3", classId: "a", embedding: Float32Array.of(0, 1) },
      { id: "4", classId: "b", embedding: Float32Array.of(0, 1) },
    ],
  );
  // Nearest-neighbour similarities: 1, 1 and 0 → median 1.
  assert.equal(typicalSimilarity(dataset, "a"), 1);
  assert.equal(typicalSimilarity(dataset, "b"), null);
});
