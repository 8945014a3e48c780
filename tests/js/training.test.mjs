// features/training.js on a page without a browser: the settings, training on the samples'
// embeddings (tfjs-core's CPU backend) and what is stored and announced.
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { addSamples, closedAfterEach, pageConfig } from "./support/page.mjs";

const page = closedAfterEach();

test("a setting is checked, shown, and stored as what differs from the project", async () => {
  const shown = page();
  const settings = await shown.api.setSettings({ head: { k: 9 }, training: { epochs: 30 } });
  assert.equal(settings.head.k, 9);
  assert.deepEqual(shown.api.settings(), settings);
  assert.deepEqual(shown.storage.writes.at(-1).change.settings, { head: { k: 9 }, training: {} });
  await shown.api.setSettings({ head: { k: 3 } });
  assert.equal(shown.storage.writes.at(-1).change.settings, null);
});

test("a setting out of bounds, or a regression head on a page of classes, is refused", async () => {
  const shown = page();
  await assert.rejects(shown.api.setSettings({ training: { learning_rate: 0 } }), {
    code: "bad_setting",
    message: "Learning rate must be more than 0 and at most 1.",
  });
  await assert.rejects(shown.api.setSettings({ head: { type: "regression" } }), {
    code: "bad_setting",
    message: "This page's samples are classes: a regression head needs a page built for numbers.",
  });
  assert.deepEqual(shown.storage.writes, []);
  assert.equal(shown.api.settings().training.learning_rate, 0.05);
});

test("training needs a sample in every class, and names the empty ones", async () => {
  const shown = page();
  await assert.rejects(shown.api.train(), {
    code: "no_samples",
    message:
      'Add examples to "Brick", "Grass", "Gravel" first: every class needs at least one sample to train.',
  });
  assert.equal(shown.api.status().training.state, "error");
});

test("training reports every epoch, evaluates on the held-back samples and stores the head", async () => {
  const shown = page();
  addSamples(shown, 8, seededRandom(4));
  const result = await shown.api.train({ training: { epochs: 12 } });
  const epochs = shown.emitted.filter((event) => event.name === "epoch").map((event) => event.payload.epoch);
  assert.deepEqual(
    epochs,
    Array.from({ length: 12 }, (_, index) => index + 1),
  );
  assert.equal(result.history.length, 12);
  assert.deepEqual(result.evaluation.classes, ["Brick", "Grass", "Gravel"]);
  assert.equal(result.evaluation.count, 6); // 2 of 8 held back (0.25) in each of 3 classes
  assert.equal(result.evaluation.accuracy, 1);
  assert.deepEqual(shown.api.status().training, { state: "done", epoch: 12, epochs: 12 });
  assert.equal(shown.api.status().trained, true);
  assert.deepEqual(shown.api.evaluation(), result.evaluation);
  const stored = shown.storage.writes.at(-1).change.head;
  assert.equal(stored.sampleCount, 24);
  assert.equal(stored.model.kind, "dense");
  assert.deepEqual(
    shown.emitted.filter((event) => event.name === "trained").map((event) => event.payload),
    [result],
  );
  assert.equal(shown.notices.at(-1).text, "Training done. Try it with the camera or an image.");
});

test("a nearest-neighbour head trains in one epoch; without held-back samples there is no accuracy", async () => {
  const shown = page({ project: pageConfig({ classes: ["Brick", "Grass"] }) });
  addSamples(shown, 3, seededRandom(5));
  const result = await shown.api.train({ head: { type: "knn" }, training: { validation_fraction: 0 } });
  assert.equal(result.history.length, 1);
  assert.equal(result.evaluation.accuracy, null);
  assert.equal(result.evaluation.count, 0);
  assert.equal(
    shown.notices.at(-1).text,
    "Training done. Its accuracy is unknown: no samples were held back. Try it with the camera or an image.",
  );
});

test("while training runs, another training or a settings change is refused as busy", async () => {
  const shown = page();
  addSamples(shown, 4, seededRandom(6));
  const running = shown.api.train({ training: { epochs: 200 } });
  await new Promise((resolve) => shown.events.on("epoch", resolve));
  await assert.rejects(shown.api.train(), { code: "busy", message: "Training is already running." });
  await assert.rejects(shown.api.setSettings({ head: { k: 4 } }), { code: "busy" });
  await shown.api.stopTraining();
  const result = await running;
  assert.ok(result.history.length < 200, `stopped after ${result.history.length} epochs`);
  assert.equal(
    shown.notices.at(-1).text,
    "Training done (stopped early). Try it with the camera or an image.",
  );
});
