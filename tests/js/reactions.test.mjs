// A feature's reaction to another's event that fails (core/events.js, feature_list.js) reaches the
// visitor as a message, after the notices of the action that caused it; a failing listener of the
// API's events stays its own.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { addSamples, fakePage } from "./support/page.mjs";

const pages = [];
function page(options) {
  pages.push(fakePage(options));
  return pages.at(-1);
}
afterEach(() => pages.splice(0).forEach((each) => each.close()));

// Quiet: the events log each failure to the console as well.
function quietConsole(t) {
  t.mock.method(console, "error", () => {});
}

test("a trained head that cannot be restored on undo is told to the visitor", async (t) => {
  quietConsole(t);
  const shown = page();
  addSamples(shown, 4, seededRandom(3));
  await shown.api.train({ training: { epochs: 2 } });
  await shown.api.deleteClass("Grass");
  // The head kept for undo is damaged: restoring it (training's "head-found" reaction) throws.
  const { removed } = shown.store.get().undo;
  removed.headRecord.model.weights = removed.headRecord.model.weights.slice(1);
  await shown.api.undo();
  assert.deepEqual(
    shown.api.classes().map((item) => item.name),
    ["Brick", "Grass", "Gravel"],
  );
  const last = shown.notices.at(-1);
  assert.equal(last.kind, "error");
  assert.equal(last.reaction, "head-found");
  assert.match(
    last.text,
    /^Part of the page did not update after the last change \(.+\)\. Reload the page to see what this browser kept\.$/,
  );
  assert.equal(shown.store.get().notice.text, last.text, "the page shows it");
});

test("any reaction that throws is reported with its reason, and the other reactions still run", async (t) => {
  quietConsole(t);
  const shown = page();
  const heard = [];
  shown.events.on("camera-stopped", () => {
    throw new Error("the frame clock stopped");
  });
  shown.events.on("camera-stopped", () => heard.push("second"));
  shown.events.emit("camera-stopped", {});
  await Promise.resolve();
  assert.deepEqual(heard, ["second"]);
  assert.deepEqual(shown.notices.at(-1), {
    text: "Part of the page did not update after the last change (the frame clock stopped). Reload the page to see what this browser kept.",
    kind: "error",
    reaction: "camera-stopped",
  });
});

test("a reaction that rejects is reported too; a failing API listener is not", async (t) => {
  quietConsole(t);
  const shown = page();
  shown.events.on("session-replaced", async () => {
    throw new Error("");
  });
  shown.api.on("notice", () => {
    throw new Error("a host's bug");
  });
  shown.events.emit("session-replaced", {});
  await new Promise((resolve) => setTimeout(resolve, 0));
  const failures = shown.notices.filter((notice) => notice.kind === "error");
  assert.deepEqual(
    failures.map((notice) => notice.text),
    [
      "Part of the page did not update after the last change (an unexpected error). Reload the page to see what this browser kept.",
    ],
  );
  assert.equal(console.error.mock.callCount(), 2); // both are logged
});
