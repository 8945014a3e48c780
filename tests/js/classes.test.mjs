// features/classes.js (and undo.js) on a page without a browser: each action through the public
// API, its refusals, what it stores and what the page then shows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { addSamples, closedAfterEach, recordingStorage } from "./support/page.mjs";

const page = closedAfterEach();

const names = (shown) => shown.api.classes().map((item) => item.name);

test("a class added without a name is 'Class N' (N: one more than the classes), skipping names taken", async () => {
  const shown = page();
  assert.equal(await shown.api.addClass(), "Class 4");
  await shown.api.renameClass("Class 4", "Class 5");
  assert.equal(await shown.api.addClass(), "Class 6");
  assert.deepEqual(names(shown), ["Brick", "Grass", "Gravel", "Class 5", "Class 6"]);
  assert.deepEqual(
    shown.storage.writes.map(({ change }) => change.classes.map((item) => item.name).join(",")),
    ["Brick,Grass,Gravel,Class 4", "Brick,Grass,Gravel,Class 5", "Brick,Grass,Gravel,Class 5,Class 6"],
  );
});

test("a name that is empty, too long or taken is refused and nothing is stored", async () => {
  const shown = page();
  const refused = (call, message) => assert.rejects(call, { code: "bad_name", message });
  await refused(shown.api.addClass("   "), "A class needs a name.");
  await refused(shown.api.addClass("x".repeat(41)), "Class names can have at most 40 characters.");
  await refused(shown.api.addClass(" grass "), 'There is already a class named "grass".');
  await refused(shown.api.renameClass("Brick", "GRAVEL"), 'There is already a class named "GRAVEL".');
  await assert.rejects(shown.api.renameClass("Sand", "Dune"), {
    code: "unknown_class",
    message: 'There is no class named "Sand" (the classes: "Brick", "Grass", "Gravel").',
  });
  assert.deepEqual(shown.storage.writes, []);
  assert.deepEqual(names(shown), ["Brick", "Grass", "Gravel"]);
  assert.equal(shown.notices.at(-1).kind, "error");
});

test("nothing changes the classes while the model loads or the head trains", async () => {
  const loading = page({ status: "loading" });
  await assert.rejects(loading.api.addClass("Sand"), { code: "not_ready" });
  const training = page();
  training.store.set({ training: { ...training.store.get().training, state: "training" } });
  assert.deepEqual(training.actions.can("deleteClass"), {
    code: "busy",
    message: "Wait for training to finish, or stop it, before changing the classes.",
  });
  await assert.rejects(training.api.deleteClass("Brick"), { code: "busy" });
  assert.deepEqual(names(training), ["Brick", "Grass", "Gravel"]);
});

test("a storage that refuses the write leaves the page as it was, with a storage error", async () => {
  const shown = page({ storage: recordingStorage("The disk is full.") });
  await assert.rejects(shown.api.addClass("Sand"), { code: "storage", message: "The disk is full." });
  assert.deepEqual(names(shown), ["Brick", "Grass", "Gravel"]);
  assert.deepEqual(shown.emitted.filter((event) => event.name === "error").at(-1).payload, {
    code: "storage",
    message: "The disk is full.",
    action: "addClass",
  });
});

test("deleting a class takes its samples along, keeps two classes, and can be undone", async () => {
  const shown = page();
  addSamples(shown, 3, seededRandom(1));
  await shown.api.deleteClass("Grass");
  assert.deepEqual(shown.api.classes(), [
    { name: "Brick", count: 3 },
    { name: "Gravel", count: 3 },
  ]);
  const deleted = shown.storage.writes.at(-1).change;
  assert.equal(deleted.deleteSamples.length, 3);
  assert.equal(shown.api.status().undo.text, 'Deleted the class "Grass" and its 3 samples.');
  await assert.rejects(shown.api.deleteClass("Brick"), {
    code: "bad_argument",
    message: "Keep at least two classes.",
  });
  await shown.api.undo();
  assert.deepEqual(shown.api.classes(), [
    { name: "Brick", count: 3 },
    { name: "Grass", count: 3 },
    { name: "Gravel", count: 3 },
  ]);
  assert.equal(shown.notices.at(-1).text, 'Restored "Grass" and its 3 samples.');
  assert.equal(shown.api.status().undo, null);
  await assert.rejects(shown.api.undo(), { code: "failed", message: "There is nothing to undo." });
});

test("clearing a class empties it; its samples come back with undo", async () => {
  const shown = page();
  const added = addSamples(shown, 2, seededRandom(2));
  await shown.api.clearClass("Brick");
  assert.deepEqual(
    shown.api.classes().map((item) => item.count),
    [0, 2, 2],
  );
  await shown.api.undo();
  assert.deepEqual(
    shown.store.get().dataset.samples.map((sample) => sample.id),
    added.map((sample) => sample.id),
  );
  assert.deepEqual(shown.storage.writes.at(-1).change.putSamples.length, 2);
});

test("a change of classes makes the trained head stale", async () => {
  const shown = page();
  addSamples(shown, 6, seededRandom(3));
  await shown.api.train({ training: { epochs: 2 } });
  assert.equal(shown.api.status().trained, true);
  await shown.api.addClass("Sand");
  assert.equal(shown.api.status().trained, false);
  assert.equal(shown.store.get().training.stale, true);
  assert.equal(shown.storage.writes.at(-1).change.head, null);
  assert.ok(shown.notices.some((notice) => notice.text === "A class was added: train again to include it."));
});
