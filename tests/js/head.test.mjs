// head.js on tfjs-core's CPU backend: the dense, nearest-neighbour and regression heads train,
// predict, evaluate and come back from their stored form.
import "@tensorflow/tfjs-backend-cpu";
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import {
  argmax,
  createHead,
  evaluate,
  evaluateRegression,
  restoreHead,
} from "../../templates/app/learning/head.js";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { CLASS_IDS, DENSE, SIZE, TRAINING, axisSamples, numberSamples } from "./support/heads.mjs";

const HEAD = DENSE;
const samples = (count, seed) => axisSamples(count, seed);

before(async () => {
  await tf.setBackend("cpu");
});

async function train(head, training, validation, options = TRAINING) {
  const epochs = [];
  await head.train(training, validation, options, {
    onEpoch: (entry) => epochs.push(entry),
    shouldStop: () => false,
  });
  return epochs;
}

test("the dense head learns three separable classes and reports each epoch", async () => {
  const tensors = tf.memory().numTensors;
  const head = createHead(HEAD, TRAINING, SIZE, CLASS_IDS);
  const epochs = await train(head, samples(10, 1), samples(4, 2));
  assert.equal(epochs.length, 40);
  assert.deepEqual(Object.keys(epochs[0]), ["epoch", "loss", "accuracy", "valLoss", "valAccuracy"]);
  assert.ok(epochs.at(-1).loss < epochs[0].loss);
  assert.equal(epochs.at(-1).valAccuracy, 1);
  const report = evaluate(head, samples(5, 3));
  assert.equal(report.accuracy, 1);
  assert.deepEqual(report.confusion, [
    [5, 0, 0],
    [0, 5, 0],
    [0, 0, 5],
  ]);
  assert.deepEqual(report.perClass, [1, 1, 1]);
  const probabilities = head.predict(Float32Array.of(0, 0, 1, 0, 0, 0));
  assert.equal(argmax(probabilities), 2);
  assert.ok(Math.abs(probabilities.reduce((sum, p) => sum + p, 0) - 1) < 1e-5);
  head.dispose();
  assert.equal(tf.memory().numTensors, tensors, "the head and its training leave no tensor behind");
});

test("the same seed trains the same head", async () => {
  const weights = [];
  for (let run = 0; run < 2; run += 1) {
    const head = createHead(HEAD, TRAINING, SIZE, CLASS_IDS);
    await train(head, samples(6, 1), [], { ...TRAINING, epochs: 3 });
    weights.push(head.weights());
    head.dispose();
  }
  assert.deepEqual(weights[0], weights[1]);
});

test("a stored dense head predicts exactly as the one that was trained", async () => {
  const head = createHead(HEAD, TRAINING, SIZE, CLASS_IDS);
  await train(head, samples(6, 4), [], { ...TRAINING, epochs: 5 });
  const stored = structuredClone(head.toJSON()); // as IndexedDB keeps it
  const restored = restoreHead(stored, SIZE, []);
  const probe = Float32Array.of(0.3, 0.6, 0.1, 0, 0.2, 0);
  assert.deepEqual(restored.predict(probe), head.predict(probe));
  assert.deepEqual(restored.classIds, CLASS_IDS);
  head.dispose();
  restored.dispose();
});

test("the nearest-neighbour head votes among the k most similar samples", async () => {
  const head = createHead({ ...HEAD, type: "knn", k: 3 }, TRAINING, SIZE, CLASS_IDS);
  const training = samples(5, 5);
  const epochs = await train(head, training, samples(2, 6));
  assert.deepEqual(
    epochs.map(({ epoch, loss, accuracy, valAccuracy }) => [epoch, loss, accuracy, valAccuracy]),
    [[1, null, 1, 1]],
  );
  assert.deepEqual(head.predict(Float32Array.of(0, 1, 0, 0, 0, 0)), [0, 1, 0]);
  // Stored without samples: it is refitted on the samples of its classes.
  const restored = restoreHead(head.toJSON(), SIZE, training);
  assert.deepEqual(restored.predict(Float32Array.of(1, 0, 0, 0, 0, 0)), [1, 0, 0]);
  head.dispose();
  restored.dispose();
});

test("the regression head learns a number in the author's unit", async () => {
  const random = seededRandom(9);
  const made = (count) => numberSamples(count, random);
  const head = createHead({ ...HEAD, type: "regression" }, TRAINING, SIZE, ["value"]);
  const epochs = await train(head, made(40), made(10), { ...TRAINING, epochs: 150 });
  assert.deepEqual(Object.keys(epochs[0]), ["epoch", "loss", "mae", "valLoss", "valMae"]);
  const report = evaluateRegression(head, made(20));
  assert.equal(report.task, "regression");
  assert.equal(report.count, 20);
  assert.ok(report.mae < 5, `mean absolute error ${report.mae}`);
  assert.ok(report.r2 > 0.9, `R² ${report.r2}`);
  const [value] = head.predict(Float32Array.of(0.5, 0, 0, 0, 0, 0));
  assert.ok(Math.abs(value - 125) < 8, `predicted ${value} for 125`);
  head.dispose();
  assert.deepEqual(evaluateRegression(head, []), {
    task: "regression",
    count: 0,
    mae: null,
    rmse: null,
    r2: null,
    points: [],
  });
});
