// settings.js: the page's check of the training settings against the spec the build derives from
// the project schema (tests/test_settings_agree.py compares it with Python on the real spec).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applySettings,
  formatValue,
  mergeKnownSettings,
  parseInput,
  settingProblem,
} from "../../templates/app/core/settings.js";
import { SETTINGS_SPEC } from "./support/project.mjs";

const spec = (key) => SETTINGS_SPEC.find((item) => item.key === key);
const current = { head: { type: "dense", hidden_units: [100], dropout: 0, k: 3 }, training: { epochs: 50 } };

test("an integer setting takes whole numbers from its min to its max, both included", () => {
  const k = spec("k");
  assert.equal(settingProblem(k, 1), null);
  assert.equal(settingProblem(k, 100), null);
  for (const value of [0, 101, 2.5, NaN, "3", null])
    assert.equal(settingProblem(k, value), "Neighbours (k) must be a whole number from 1 to 100.");
});

test("an exclusive bound refuses the bound itself and words it as 'more than'", () => {
  const rate = spec("learning_rate");
  assert.equal(settingProblem(rate, 1e-9), null);
  assert.equal(settingProblem(rate, 1), null);
  assert.equal(settingProblem(rate, 0), "Learning rate must be more than 0 and at most 1.");
  assert.equal(settingProblem(rate, Infinity), "Learning rate must be more than 0 and at most 1.");
});

test("a choice is matched exactly, and its message lists the choices", () => {
  const type = spec("type");
  assert.equal(settingProblem(type, "knn"), null);
  assert.equal(settingProblem(type, "KNN"), "Classifier must be one of dense, knn, regression.");
});

test("a list of layer sizes checks every item and its length", () => {
  const units = spec("hidden_units");
  assert.equal(settingProblem(units, []), null);
  assert.equal(settingProblem(units, [4096, 1, 1, 1]), null);
  assert.equal(settingProblem(units, [1, 1, 1, 1, 1]), "Hidden layer sizes can have at most 4 layers.");
  for (const value of [[0], [2.5], [4097], 100])
    assert.match(settingProblem(units, value), /^Hidden layer sizes must be whole numbers from 1 to 4096/);
});

test("a setting of a kind the page does not know is refused by name", () => {
  assert.equal(
    settingProblem({ label: "Colour", kind: "colour" }, "red"),
    "Colour is not a setting this page knows.",
  );
});

test("what a visitor typed becomes the setting's value, and an empty field is no number", () => {
  assert.deepEqual(parseInput(spec("hidden_units"), " 128, 64 32 "), [128, 64, 32]);
  assert.deepEqual(parseInput(spec("hidden_units"), "  "), []);
  assert.equal(parseInput(spec("dropout"), "0.25"), 0.25);
  assert.ok(Number.isNaN(parseInput(spec("dropout"), "")));
  assert.equal(parseInput(spec("type"), "knn"), "knn");
  assert.equal(formatValue([128, 64]), "128, 64");
  assert.equal(formatValue(0.5), "0.5");
});

test("applySettings returns new settings and leaves the current ones alone", () => {
  const next = applySettings(SETTINGS_SPEC, current, { head: { k: 7 }, training: { epochs: 3 } });
  assert.deepEqual(next, { head: { ...current.head, k: 7 }, training: { epochs: 3 } });
  assert.equal(current.head.k, 3);
  assert.equal(current.training.epochs, 50);
});

test("applySettings refuses the whole change at its first problem, with a bad_setting code", () => {
  const refused = (change, message) =>
    assert.throws(() => applySettings(SETTINGS_SPEC, current, change), { code: "bad_setting", message });
  refused({ head: { k: 0 } }, "Neighbours (k) must be a whole number from 1 to 100.");
  refused({ head: { colour: 1 } }, "head.colour is not a setting of this page.");
  refused({ model: { k: 1 } }, '"model" is not a settings section (use head or training).');
  refused({ head: null }, '"head" is not a settings section (use head or training).');
  assert.deepEqual(applySettings(SETTINGS_SPEC, current, null), current);
});

test("settings carried by a file keep the current value wherever they are out of bounds", () => {
  const carried = { head: { k: 500, dropout: 0.5 }, training: { epochs: 10, unknown: 1 } };
  const { settings, ignored } = mergeKnownSettings(SETTINGS_SPEC, current, carried);
  assert.deepEqual(settings, { head: { ...current.head, dropout: 0.5 }, training: { epochs: 10 } });
  assert.deepEqual(ignored, ["Neighbours (k)"]);
});
