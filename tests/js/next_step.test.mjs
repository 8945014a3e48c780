// next_step.js: what the visitor should do next, from the state alone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Dataset } from "../../templates/app/learning/dataset.js";
import { nextStep } from "../../templates/app/ui/next_step.js";

const CLASSES = [
  { id: "a", name: "Brick" },
  { id: "b", name: "Grass" },
];
const sample = (id, classId) => ({ id, classId, embedding: Float32Array.of(1) });

function state(change = {}) {
  return {
    status: "ready",
    dataset: new Dataset(CLASSES, []),
    training: { state: "idle", epoch: 0, epochs: 0, stale: false },
    head: null,
    headRecord: null,
    ...change,
  };
}

test("loading and a failed model come before anything else", () => {
  assert.deepEqual(nextStep(state({ status: "loading" })), { step: "loading", text: "Loading the model…" });
  assert.deepEqual(nextStep(state({ status: "error" })), {
    step: "error",
    text: "The model could not be loaded.",
  });
});

test("without a head: collect, then fill the empty classes by name, then train", () => {
  assert.equal(nextStep(state()).step, "collect");
  const partly = new Dataset(CLASSES, [sample("1", "a")]);
  assert.deepEqual(nextStep(state({ dataset: partly })), { step: "fill", text: 'Add examples to "Grass".' });
  const full = partly.withSamples([sample("2", "b")]);
  assert.deepEqual(nextStep(state({ dataset: full })), { step: "train", text: "Ready: train the model." });
  const stale = { state: "idle", epoch: 0, epochs: 0, stale: true };
  assert.equal(nextStep(state({ dataset: full, training: stale })).text, "The classes changed: train again.");
});

test("while training it counts the epochs", () => {
  const training = { state: "training", epoch: 3, epochs: 50, stale: false };
  assert.deepEqual(nextStep(state({ training })), { step: "training", text: "Training: epoch 3 of 50…" });
});

test("a trained head asks to try it, or to retrain once the examples changed", () => {
  const dataset = new Dataset(CLASSES, [sample("1", "a"), sample("2", "b")]);
  const trained = { dataset, head: {}, headRecord: { sampleCount: 2 } };
  assert.equal(nextStep(state(trained)).step, "try");
  const more = dataset.withSamples([sample("3", "b")]);
  assert.equal(nextStep(state({ ...trained, dataset: more })).step, "retrain");
});
