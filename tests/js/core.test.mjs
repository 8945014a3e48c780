// core/: the store, the events, the errors and the actions seam every control goes through.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createActions } from "../../templates/app/core/actions.js";
import { ERROR_CODES, TeachkitError, asTeachkitError, refusal } from "../../templates/app/core/errors.js";
import { createEvents } from "../../templates/app/core/events.js";
import { createStore } from "../../templates/app/core/store.js";

test("the store replaces its state on each change and tells its listeners old and new", () => {
  const store = createStore({ count: 0, name: "x" });
  const seen = [];
  const stop = store.subscribe((state, previous) => seen.push([previous.count, state.count]));
  const first = store.get();
  store.set({ count: 1 });
  store.set((state) => ({ count: state.count + 10 }));
  assert.deepEqual(store.get(), { count: 11, name: "x" });
  assert.deepEqual(first, { count: 0, name: "x" });
  assert.notEqual(store.get(), first);
  stop();
  store.set({ count: 12 });
  assert.deepEqual(seen, [
    [0, 1],
    [1, 11],
  ]);
});

test("events reach every handler until it unsubscribes, even when another handler throws", (t) => {
  const quiet = t.mock.method(console, "error", () => {});
  const events = createEvents();
  const heard = [];
  events.on("ready", () => {
    throw new Error("a listener's own bug");
  });
  const off = events.on("ready", (payload) => heard.push(payload));
  events.emit("ready", 1);
  off();
  events.emit("ready", 2);
  events.emit("nobody-listens", 3);
  assert.deepEqual(heard, [1]);
  assert.equal(quiet.mock.callCount(), 2);
});

test("any failure becomes a TeachkitError; a known one keeps its code", () => {
  const known = new TeachkitError("busy", "Training is already running.");
  assert.equal(asTeachkitError(known), known);
  const plain = asTeachkitError(new RangeError("out of memory"));
  assert.ok(plain instanceof TeachkitError);
  assert.deepEqual([plain.code, plain.message, plain.name], ["failed", "out of memory", "TeachkitError"]);
  assert.equal(asTeachkitError("text").message, "text");
  assert.deepEqual(refusal("busy", "Wait."), { code: "busy", message: "Wait." });
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  for (const code of ["not_ready", "busy", "bad_setting", "failed"]) assert.ok(ERROR_CODES.includes(code));
});

// A context with one counter and the actions `bump` (refused while `locked`), `boom` (fails).
function counterContext() {
  const store = createStore({ count: 0, locked: false });
  const events = createEvents();
  const notices = [];
  const errors = [];
  events.on("error", (payload) => errors.push(payload));
  const context = {
    store,
    events,
    notify: (text, kind, about) => notices.push({ text, kind, ...about }),
  };
  const actions = createActions(context);
  actions.register({
    bump: {
      can: (state, by) => (state.locked ? refusal("busy", `Locked, cannot add ${by}.`) : null),
      run({ store: own, notify }, by) {
        own.set({ count: own.get().count + by });
        notify("Bumped.");
        return own.get().count;
      },
    },
    boom: {
      async run() {
        throw new Error("the disk is full");
      },
    },
  });
  return { context, store, actions, notices, errors };
}

test("can answers with the action's refusal, or null; an unknown action is a programming error", () => {
  const { store, actions } = counterContext();
  assert.equal(actions.can("bump", 1), null);
  assert.equal(actions.can("boom"), null); // no `can`: always allowed
  store.set({ locked: true });
  assert.deepEqual(actions.can("bump", 2), { code: "busy", message: "Locked, cannot add 2." });
  assert.throws(() => actions.can("nothing"), /no action named nothing/);
});

test("dispatch runs the action with a notify that names the action and its subject", async () => {
  const { store, actions, notices } = counterContext();
  assert.equal(await actions.dispatch("bump", [5]), 5);
  assert.equal(store.get().count, 5);
  assert.deepEqual(notices, [{ text: "Bumped.", kind: "info", action: "bump", subject: null }]);
});

test("from the API and from a host page a refusal rejects with its code and reaches the page", async () => {
  for (const source of ["api", "host"]) {
    const { store, actions, notices, errors } = counterContext();
    store.set({ locked: true });
    await assert.rejects(actions.dispatch("bump", [3], { source }), {
      name: "TeachkitError",
      code: "busy",
      message: "Locked, cannot add 3.",
    });
    assert.equal(store.get().count, 0);
    assert.deepEqual(notices, [
      { text: "Locked, cannot add 3.", kind: "error", action: "bump", subject: null },
    ]);
    assert.deepEqual(errors, [{ code: "busy", message: "Locked, cannot add 3.", action: "bump" }]);
  }
});

test("from the page's own controls a failure is shown, not thrown", async () => {
  const { actions, notices, errors } = counterContext();
  assert.equal(await actions.dispatch("boom", ["Grass"], { source: "ui" }), undefined);
  assert.deepEqual(notices, [{ text: "the disk is full", kind: "error", action: "boom", subject: "Grass" }]);
  assert.deepEqual(errors, [{ code: "failed", message: "the disk is full", action: "boom" }]);
});

test("dispatch without a source is an API call, and an action is registered once", async () => {
  const { actions } = counterContext();
  await assert.rejects(actions.dispatch("boom"), { code: "failed", message: "the disk is full" });
  await assert.rejects(actions.dispatch("missing"), { code: "failed", message: "no action named missing" });
  assert.throws(() => actions.register({ bump: { run() {} } }), /action bump is registered twice/);
});
