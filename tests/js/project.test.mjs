// features/project.js on a page without a browser: a session saved as a project file opens in
// another copy of the page as the same session; a damaged file changes nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { addSamples, closedAfterEach } from "./support/page.mjs";

const page = closedAfterEach();

test("a trained session saved to a project file opens trained in another page", async () => {
  const saved = page();
  addSamples(saved, 5, seededRandom(7));
  await saved.api.renameClass("Gravel", "Stones");
  await saved.api.setSettings({ head: { k: 5 } });
  await saved.api.train({ training: { epochs: 8 } });
  const { blob, name } = await saved.actions.dispatch("exportProject");
  assert.equal(name, "surfaces.teachkit.zip");

  const opened = page();
  await opened.actions.dispatch("importProject", [blob]);
  assert.deepEqual(opened.api.classes(), saved.api.classes());
  assert.deepEqual(opened.api.settings(), saved.api.settings());
  assert.equal(opened.api.status().trained, true);
  assert.deepEqual(opened.api.evaluation(), saved.api.evaluation());
  const probe = opened.store.get().dataset.samples[0].embedding;
  assert.deepEqual(opened.store.get().head.predict(probe), saved.store.get().head.predict(probe));
  assert.equal(opened.notices.at(-1).text, "Imported 15 samples in 3 classes and the trained model.");
  assert.equal(opened.storage.writes.at(-1).kind, "replaceAll");
});

test("a damaged project file is refused by name and nothing is changed", async () => {
  const shown = page();
  addSamples(shown, 1, seededRandom(8));
  const before = shown.store.get().dataset;
  const file = new File([Uint8Array.of(1, 2, 3)], "holiday.zip");
  await assert.rejects(shown.actions.dispatch("importProject", [file]), {
    code: "bad_project_file",
    message:
      /^"holiday\.zip": This is not a teachkit project file, or it is damaged \(.*\)\. Nothing was changed\.$/,
  });
  await assert.rejects(shown.actions.dispatch("importProject", ["not a file"]), {
    code: "bad_argument",
    message: "importProject needs the project file as a File or Blob.",
  });
  assert.equal(shown.store.get().dataset, before);
  assert.deepEqual(shown.storage.writes, []);
});
