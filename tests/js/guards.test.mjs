// features/guards.js: the `can` predicates most actions share.
import assert from "node:assert/strict";
import { test } from "node:test";
import { whenIdle, whenReady, whenTrained } from "../../templates/app/core/guards.js";

const state = (change = {}) => ({
  status: "ready",
  training: { state: "idle" },
  head: null,
  openedModel: null,
  ...change,
});

test("nothing runs before the model is ready, and a failed model says to reload", () => {
  const loading = { code: "not_ready", message: "The model is still loading; wait a moment." };
  const failed = { code: "not_ready", message: "The model could not be loaded; reload the page." };
  for (const guard of [whenReady, whenIdle, whenTrained]) {
    assert.deepEqual(guard(state({ status: "loading" })), loading);
    assert.deepEqual(guard(state({ status: "error" })), failed);
  }
  assert.equal(whenReady(state()), null);
});

test("the classes do not change while the head trains on them", () => {
  assert.equal(whenIdle(state()), null);
  assert.deepEqual(whenIdle(state({ training: { state: "training" } })), {
    code: "busy",
    message: "Wait for training to finish, or stop it, before changing the classes.",
  });
});

test("asking the model needs a trained head or an opened model", () => {
  assert.deepEqual(whenTrained(state()), {
    code: "not_trained",
    message: "Train the model before asking it about an image.",
  });
  assert.equal(whenTrained(state({ head: {} })), null);
  assert.equal(whenTrained(state({ openedModel: {} })), null);
});
