// projection.js: PCA for the map of the examples, and where a new embedding falls on it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { centres, pca2, pcaPoint, placeAmong } from "../../templates/app/learning/projection.js";

// Points spread 10 along axis 2, 3 along axis 0 and 0.1 along the rest, around (5, 5, 5, 5, 5).
function cloud(count, seed) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const point = Float32Array.from({ length: 5 }, () => 5 + (random() - 0.5) * 0.1);
    point[2] += (random() - 0.5) * 10;
    point[0] += (random() - 0.5) * 3;
    return point;
  });
}

const along = (vector, axis) => Math.abs(vector[axis]);

test("the two components are the directions of the largest and second largest spread", () => {
  const model = pca2(cloud(200, 1));
  assert.ok(along(model.components[0], 2) > 0.999, `first: ${model.components[0]}`);
  assert.ok(along(model.components[1], 0) > 0.999, `second: ${model.components[1]}`);
  for (const value of model.mean) assert.ok(Math.abs(value - 5) < 0.5);
  assert.ok(model.iterations < 100);
});

test("a point's place is its offset from the mean along each component", () => {
  const model = pca2(cloud(100, 2));
  const [x, y] = pcaPoint(model, model.mean);
  assert.ok(Math.abs(x) < 1e-9 && Math.abs(y) < 1e-9);
  const shifted = Float64Array.from(model.mean);
  shifted[2] += 4;
  const [x2] = pcaPoint(model, shifted);
  assert.ok(Math.abs(Math.abs(x2) - 4) < 0.01);
});

test("a map updated for one more sample starts from the last one and keeps its orientation", () => {
  const points = cloud(150, 3);
  const before = pca2(points);
  const after = pca2([...points, Float32Array.of(5, 5, 9, 5, 5)], before);
  assert.ok(after.iterations <= before.iterations);
  for (const index of [0, 1]) {
    const agreement = before.components[index].reduce((sum, v, i) => sum + v * after.components[index][i], 0);
    assert.ok(agreement > 0.99, `component ${index} turned: ${agreement}`);
  }
});

test("a single point gives a map without iterating", () => {
  const model = pca2([Float32Array.of(1, 2, 3)]);
  assert.equal(model.iterations, 0);
  assert.deepEqual(Array.from(model.mean), [1, 2, 3]);
});

test("a new embedding falls among its nearest samples, weighted by similarity", () => {
  assert.deepEqual(
    placeAmong([
      { place: [0, 0], similarity: 1 },
      { place: [10, 10], similarity: 1 },
    ]),
    [5, 5],
  );
  const [x] = placeAmong([
    { place: [0, 0], similarity: 0.9 },
    { place: [10, 0], similarity: 0.3 },
  ]);
  assert.ok(x > 0 && x < 1, `x = ${x}`);
  assert.equal(placeAmong([]), null);
});

test("each class's centre is the mean of its points", () => {
  const points = [
    { x: 0, y: 0, classId: "a" },
    { x: 2, y: 4, classId: "a" },
    { x: -1, y: -1, classId: "b" },
  ];
  assert.deepEqual(
    [...centres(points, (point) => point.classId)],
    [
      ["a", [1, 2]],
      ["b", [-1, -1]],
    ],
  );
});
