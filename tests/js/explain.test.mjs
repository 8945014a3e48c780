// explain.js on tfjs-core's CPU backend: class activation maps for the dense, nearest-neighbour and
// regression heads (trained here on synthetic embeddings), the occlusion patches and their drops,
// and the words that name the strongest regions.
import "@tensorflow/tfjs-backend-cpu";
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { createHead } from "../../templates/app/learning/head.js";
import {
  cellEdge,
  classActivationMap,
  occlusionPatches,
  occlusionScorer,
  occlusionSentence,
  occlusionValues,
  regionsSentence,
  strongestRegions,
  zoneName,
} from "../../templates/app/learning/explain.js";
import { CLASS_IDS, DENSE, SIZE, TRAINING, axisSamples, numberSamples } from "./support/heads.mjs";

const GRID = { rows: 7, cols: 7 };
const LINEAR = { ...DENSE, hidden_units: [] };
// Non-negative, as the cells of a feature map are after ReLU6.
const samples = (count, seed) => axisSamples(count, seed, (random) => random() * 0.3);

before(async () => {
  await tf.setBackend("cpu");
});

async function trained(config, training = samples(10, 1), options = TRAINING, classIds = CLASS_IDS) {
  const head = createHead(config, TRAINING, SIZE, classIds);
  await head.train(training, [], options, { onEpoch: () => {}, shouldStop: () => false });
  return head;
}

// A 7 × 7 map: `left(random)` in the three left columns, `right(random)` in the three right ones,
// faint noise on channel 4 (no class's axis) in the middle column.
function featureMap({ left, right }, seed = 3) {
  const random = seededRandom(seed);
  const map = new Float32Array(GRID.rows * GRID.cols * SIZE);
  for (let row = 0; row < GRID.rows; row += 1)
    for (let col = 0; col < GRID.cols; col += 1) {
      const noise = Float32Array.from({ length: SIZE }, () => random() * 0.1);
      if (col < 3) noise.set(left(random).map((value, i) => value + noise[i]));
      else if (col > 3) noise.set(right(random).map((value, i) => value + noise[i]));
      else noise[4] += 0.5;
      map.set(noise, (row * GRID.cols + col) * SIZE);
    }
  return map;
}

const axis =
  (index, length = 1) =>
  () =>
    Float32Array.from({ length: SIZE }, (_, i) => (i === index ? length : 0));
const SPLIT = featureMap({ left: axis(0), right: axis(1) }); // class a on the left, class b on the right

function cell(map, index) {
  return map.slice(index * SIZE, (index + 1) * SIZE);
}

function pooled(map) {
  const cells = map.length / SIZE;
  const sum = new Float32Array(SIZE);
  for (let index = 0; index < cells; index += 1)
    cell(map, index).forEach((value, i) => (sum[i] += value / cells));
  return sum;
}

function logits(head, vector) {
  return tf.tidy(() =>
    head
      .logits(tf.tensor2d(vector, [1, SIZE]), false)
      .dataSync()
      .slice(),
  );
}

const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;

// The mean value over the three left and the three right columns.
function sides({ values, cols }) {
  const left = [];
  const right = [];
  values.forEach((value, index) => {
    if (index % cols < 3) left.push(value);
    else if (index % cols > 3) right.push(value);
  });
  return { left: mean(left), right: mean(right) };
}

test("without a hidden layer the cells decompose the logit exactly: their mean is the class's logit", async () => {
  const head = await trained(LINEAR);
  for (const [index, classId] of CLASS_IDS.entries()) {
    const explained = classActivationMap(head, SPLIT, GRID, classId);
    assert.equal(explained.exact, true);
    assert.equal(explained.rows, 7);
    assert.equal(explained.cols, 7);
    assert.ok(explained.values instanceof Float32Array && explained.values.length === 49);
    const logit = logits(head, pooled(SPLIT))[index];
    const total = mean(Array.from(explained.values));
    assert.ok(Math.abs(total - logit) < 1e-4, `${classId}: mean of cells ${total}, logit ${logit}`);
    // Each cell is what the head answers for that region alone: w_c·f_ij + b_c.
    for (const at of [0, 24, 48]) {
      const alone = logits(head, cell(SPLIT, at))[index];
      assert.ok(
        Math.abs(explained.values[at] - alone) < 1e-4,
        `${classId} cell ${at}: ${explained.values[at]} vs ${alone}`,
      );
    }
  }
  head.dispose();
});

test("an embedding rounded apart from the map's mean (an int8 model's): the cells add up to its own logit", async () => {
  const head = await trained(LINEAR);
  const rounded = pooled(SPLIT).map((value, i) => value + (i % 3 === 0 ? 0.02 : -0.01));
  for (const [index, classId] of CLASS_IDS.entries()) {
    const explained = classActivationMap(head, SPLIT, { ...GRID, embedding: rounded }, classId);
    const logit = logits(head, rounded)[index];
    const total = mean(Array.from(explained.values));
    assert.ok(Math.abs(total - logit) < 1e-4, `${classId}: mean of cells ${total}, logit ${logit}`);
    // Still each cell alone, shifted by one constant shared by every cell.
    const shift = logit - logits(head, pooled(SPLIT))[index];
    for (const at of [0, 24, 48]) {
      const alone = logits(head, cell(SPLIT, at))[index] + shift;
      assert.ok(Math.abs(explained.values[at] - alone) < 1e-4, `${classId} cell ${at}`);
    }
  }
  assert.throws(
    () => classActivationMap(head, SPLIT, { ...GRID, embedding: rounded.subarray(1) }, "a"),
    /embedding has \d+ numbers but the feature map's cells \d+/,
  );
  head.dispose();
});

test("with a hidden layer (Grad-CAM on the pooled vector) the cells' mean is still the class's logit", async () => {
  const head = await trained({ ...DENSE, hidden_units: [12, 8], activation: "tanh" });
  for (const [index, classId] of CLASS_IDS.entries()) {
    const explained = classActivationMap(head, SPLIT, GRID, classId);
    assert.equal(explained.exact, false);
    const logit = logits(head, pooled(SPLIT))[index];
    const total = mean(Array.from(explained.values));
    assert.ok(Math.abs(total - logit) < 1e-4, `${classId}: mean of cells ${total}, logit ${logit}`);
  }
  head.dispose();
});

test("the dense heads put a class's evidence where it is: class a on the left, class b on the right", async () => {
  for (const config of [LINEAR, DENSE]) {
    const head = await trained(config);
    const a = sides(classActivationMap(head, SPLIT, GRID, "a"));
    const b = sides(classActivationMap(head, SPLIT, GRID, "b"));
    const name = `hidden ${JSON.stringify(config.hidden_units)}`;
    assert.ok(a.left > a.right, `${name}, a: left ${a.left}, right ${a.right}`);
    assert.ok(b.right > b.left, `${name}, b: left ${b.left}, right ${b.right}`);
    head.dispose();
  }
});

test("the nearest-neighbour head's cells favour the class whose samples they resemble", async () => {
  const head = await trained({ ...DENSE, type: "knn", k: 3 });
  const a = classActivationMap(head, SPLIT, GRID, "a");
  assert.equal(a.exact, false);
  const aSides = sides(a);
  assert.ok(aSides.left > 0 && aSides.right < 0, `a: left ${aSides.left}, right ${aSides.right}`);
  const b = sides(classActivationMap(head, SPLIT, GRID, "b"));
  assert.ok(b.right > 0 && b.left < 0, `b: left ${b.left}, right ${b.right}`);
  // Class c is on neither side: no cell is evidence for it.
  const c = classActivationMap(head, SPLIT, GRID, "c");
  assert.ok(Math.max(...c.values) < 0.2, `c: largest ${Math.max(...c.values)}`);
  head.dispose();
});

test("the regression head's cells decompose the predicted number; a larger feature on the left gives more on the left", async () => {
  const random = seededRandom(9);
  const made = (count) => numberSamples(count, random);
  const map = featureMap({ left: axis(0, 0.9), right: axis(0, 0.1) });
  for (const config of [
    { ...LINEAR, type: "regression" },
    { ...DENSE, type: "regression" },
  ]) {
    const head = await trained(config, made(40), { ...TRAINING, epochs: 60 }, ["value"]);
    const explained = classActivationMap(head, map, GRID, "ignored for a number");
    assert.equal(explained.exact, config.hidden_units.length === 0);
    const [number] = head.predict(pooled(map));
    const total = mean(Array.from(explained.values));
    assert.ok(
      Math.abs(total - number) < 1e-3 * Math.abs(number),
      `mean of cells ${total}, predicted ${number}`,
    );
    const { left, right } = sides(explained);
    assert.ok(left > right, `left ${left}, right ${right}`);
    head.dispose();
  }
});

test("an unknown class and a map of the wrong shape are refused in words", async () => {
  const head = await trained(LINEAR, samples(3, 2), { ...TRAINING, epochs: 1 });
  assert.throws(() => classActivationMap(head, SPLIT, GRID, "zebra"), {
    name: "TeachkitError",
    code: "unknown_class",
  });
  assert.throws(() => classActivationMap(head, SPLIT.subarray(1), GRID, "a"), /is not 7 × 7 cells/);
  assert.throws(() => classActivationMap(head, SPLIT, { rows: 0, cols: 7 }, "a"), /whole numbers of rows/);
  assert.throws(() => classActivationMap(head, null, { rows: 0, cols: 0 }, "a"), {
    code: "not_supported",
    message: /no feature map.*"occlusion" works with any model/,
  });
  const wider = new Float32Array(49 * (SIZE + 1));
  assert.throws(
    () => classActivationMap(head, wider, GRID, "a"),
    /has 7 channels but the model's embeddings have 6/,
  );
  head.dispose();
  const unfitted = createHead({ ...DENSE, type: "knn" }, TRAINING, SIZE, CLASS_IDS);
  assert.throws(() => classActivationMap(unfitted, SPLIT, GRID, "a"), { code: "not_trained" });
});

test("explaining leaves no tensor behind, for every kind of head", async () => {
  const heads = [await trained(LINEAR), await trained(DENSE), await trained({ ...DENSE, type: "knn" })];
  const before = tf.memory().numTensors;
  for (const head of heads)
    for (const classId of CLASS_IDS) {
      classActivationMap(head, SPLIT, GRID, classId);
      occlusionScorer(head, pooled(SPLIT), classId)(cell(SPLIT, 0));
    }
  assert.equal(tf.memory().numTensors, before);
  heads.forEach((head) => head.dispose());
});

// A width × height RGBA image whose every pixel has a distinct, non-grey colour.
function photo(width, height) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel += 1) {
    data.set([pixel % 101, 200 + (pixel % 50), (pixel * 7) % 97, 255], pixel * 4);
  }
  return { data, width, height };
}

for (const [width, height, rows, cols] of [
  [224, 224, 7, 7],
  [200, 200, 7, 7], // not a multiple of 7: cells of 28 or 29 pixels
  [30, 20, 3, 4],
]) {
  test(`occlusion greys exactly one cell per patch and the patches tile a ${width} × ${height} crop (${rows} × ${cols})`, () => {
    const image = photo(width, height);
    const original = image.data.slice();
    const covered = new Uint8Array(width * height);
    const patches = [...occlusionPatches(image, rows, cols)];
    assert.equal(patches.length, rows * cols);
    patches.forEach((patch, order) => {
      assert.equal(patch.index, order);
      assert.deepEqual([patch.row, patch.col], [Math.floor(order / cols), order % cols]);
      assert.equal(patch.left, cellEdge(patch.col, cols, width));
      assert.equal(patch.top, cellEdge(patch.row, rows, height));
      assert.ok(patch.width >= Math.floor(width / cols) && patch.width <= Math.ceil(width / cols));
      assert.ok(patch.height >= Math.floor(height / rows) && patch.height <= Math.ceil(height / rows));
      const { data } = patch.pixels;
      assert.equal(patch.pixels.width, width);
      const wrong = [];
      for (let y = 0; y < height; y += 1)
        for (let x = 0; x < width; x += 1) {
          const at = (y * width + x) * 4;
          const inside =
            x >= patch.left && x < patch.left + patch.width && y >= patch.top && y < patch.top + patch.height;
          if (inside) covered[y * width + x] += 1;
          for (let channel = 0; channel < 4; channel += 1) {
            const expected = inside ? (channel === 3 ? 255 : 128) : original[at + channel];
            if (data[at + channel] !== expected && wrong.length < 5)
              wrong.push([x, y, channel, data[at + channel]]);
          }
        }
      assert.deepEqual(wrong, [], `patch ${order}: pixels [x, y, channel, value] not as expected`);
    });
    assert.ok(
      covered.every((count) => count === 1),
      "every pixel of the crop is hidden exactly once",
    );
    assert.deepEqual(image.data, original, "the image itself is left as it was");
  });
}

test("a wider occlusion patch greys span × span cells around its cell, cut at the crop's edges", () => {
  const patches = [...occlusionPatches(photo(224, 224), 7, 7, { span: 3 })];
  assert.equal(patches.length, 49);
  const rect = ({ left, top, width, height }) => [left, top, width, height];
  assert.deepEqual(rect(patches[0]), [0, 0, 64, 64], "top left: 2 × 2 cells");
  assert.deepEqual(rect(patches[24]), [64, 64, 96, 96], "centre: 3 × 3 cells around row 4, column 4");
  assert.deepEqual(rect(patches[48]), [160, 160, 64, 64], "bottom right: 2 × 2 cells");
  const { data } = patches[24].pixels;
  const at = (x, y) => [...data.subarray((y * 224 + x) * 4, (y * 224 + x) * 4 + 4)];
  assert.deepEqual(at(64, 64), [128, 128, 128, 255]);
  assert.deepEqual(at(159, 159), [128, 128, 128, 255]);
  assert.notDeepEqual(at(160, 159), [128, 128, 128, 255]);
});

test("occlusion runs one patch at a time and can stop early", () => {
  const image = photo(224, 224);
  const patches = occlusionPatches(image, 7, 7, { grey: 90 });
  const first = patches.next().value;
  assert.deepEqual([first.index, first.left, first.top, first.width, first.height], [0, 0, 0, 32, 32]);
  assert.deepEqual([...first.pixels.data.subarray(0, 4)], [90, 90, 90, 255]);
  assert.equal(patches.next().value.left, 32);
  assert.equal(patches.return().done, true);
  assert.equal(patches.next().done, true);
});

// A toy base model for the occlusion test: the image's mean red, green and blue (0–1) on channels
// 0, 1 and 2, so a red region is class a's evidence and a green one class b's.
function toyEmbedding({ data }) {
  const embedding = new Float32Array(SIZE);
  for (let at = 0; at < data.length; at += 4) for (let c = 0; c < 3; c += 1) embedding[c] += data[at + c];
  return embedding.map((value) => value / 255 / (data.length / 4));
}

test("an occlusion test finds a class's evidence where it is, for the dense and the kNN heads", async () => {
  const side = 28; // 7 × 7 cells of 4 pixels: red in the left half, green in the right half
  const data = new Uint8ClampedArray(side * side * 4);
  for (let pixel = 0; pixel < side * side; pixel += 1)
    data.set(pixel % side < side / 2 ? [255, 0, 0, 255] : [0, 255, 0, 255], pixel * 4);
  const image = { data, width: side, height: side };
  const base = toyEmbedding(image);
  for (const config of [DENSE, { ...DENSE, type: "knn" }]) {
    const head = await trained(config);
    for (const [classId, strong, weak] of [
      ["a", "left", "right"],
      ["b", "right", "left"],
    ]) {
      const score = occlusionScorer(head, base, classId);
      const scores = [...occlusionPatches(image, 7, 7)].map((patch) => score(toyEmbedding(patch.pixels)));
      const drops = sides({ values: occlusionValues(score(base), scores), cols: 7 });
      assert.ok(drops[strong] > drops[weak], `${config.type}, ${classId}: ${JSON.stringify(drops)}`);
      assert.ok(drops[strong] > 0, `${config.type}, ${classId}: hiding its evidence lowers the score`);
    }
    if (config.type === "dense") {
      const logit = head.outputs(base)[1];
      assert.equal(
        occlusionScorer(head, base, "b")(base),
        logit,
        "a dense head's score is the class's logit",
      );
    }
    head.dispose();
  }
});

test("occlusion values are the drop in the class's score: positive where hiding lowered it", () => {
  const values = occlusionValues(0.9, [0.2, 0.9, 0.95, null]);
  assert.ok(values[0] > 0.69 && values[0] < 0.71, "hiding this cell lowered the score");
  assert.equal(values[1], 0);
  assert.ok(values[2] < 0, "hiding this cell raised the score");
  assert.ok(Number.isNaN(values[3]), "a cell not measured yet");
});

test("cells are named by the 3 × 3 zones of the grid", () => {
  // 7 × 7 splits 2, 3, 2: the centre is the middle 3 × 3.
  assert.equal(zoneName(0, 0, 7, 7), "top left");
  assert.equal(zoneName(1, 1, 7, 7), "top left");
  assert.equal(zoneName(2, 2, 7, 7), "centre");
  assert.equal(zoneName(4, 4, 7, 7), "centre");
  assert.equal(zoneName(3, 6, 7, 7), "right");
  assert.equal(zoneName(6, 3, 7, 7), "bottom");
  assert.equal(zoneName(6, 6, 7, 7), "bottom right");
  // A 2 × 2 grid has only corners.
  assert.deepEqual(
    [0, 1, 2, 3].map((index) => zoneName(Math.floor(index / 2), index % 2, 2, 2)),
    ["top left", "top right", "bottom left", "bottom right"],
  );
});

test("the strongest regions are distinct zones, strongest first, each with its strongest cell", () => {
  const values = new Float32Array(49);
  values[24] = 5; // row 4, column 4: centre
  values[25] = 4; // centre again, not named twice
  values[0] = 3; // top left
  values[48] = 2; // bottom right
  values[6] = NaN; // top right, not measured
  const regions = strongestRegions(values, 7, 7, 3);
  assert.deepEqual(
    regions.map(({ zone, row, col, value, position }) => [zone, row, col, value, position]),
    [
      ["centre", 3, 3, 5, "row 4, column 4"],
      ["top left", 0, 0, 3, "row 1, column 1"],
      ["bottom right", 6, 6, 2, "row 7, column 7"],
    ],
  );
  assert.equal(
    regionsSentence(values, 7, 7, "Cat"),
    "Strongest evidence for Cat: the centre, then the top left corner, then the bottom right corner.",
  );
});

test("the occlusion test ends with the region whose hiding changed the answer most", () => {
  const drops = occlusionValues(
    0.8,
    Array.from({ length: 49 }, (_, index) => ([20, 27, 34].includes(index) ? 0.1 : 0.75)),
  );
  assert.equal(occlusionSentence(drops, 7, 7), "Hiding the right side changed the answer most.");
  assert.equal(
    occlusionSentence(occlusionValues(0.5, new Array(49).fill(0.6)), 7, 7),
    "Hiding any one part did not lower the score: the answer does not rest on a single region.",
  );
  assert.equal(
    occlusionSentence(occlusionValues(0.5, new Array(49).fill(null)), 7, 7),
    "No part of the picture has been hidden yet.",
  );
});
