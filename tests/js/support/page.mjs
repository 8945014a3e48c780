// A page without a browser: the store, events and actions of every feature, as main.js wires them,
// with fakes for what needs a browser (storage records its writes, no embedder, no camera). Tests
// drive it through `dispatch` and `window.teachkit`'s own object, and read the store.
import { afterEach } from "node:test";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { createPageApi } from "../../../templates/app/api/page_api.js";
import { createEvents } from "../../../templates/app/core/events.js";
import { createStore } from "../../../templates/app/core/store.js";
import { newId } from "../../../templates/app/learning/dataset.js";
import { createWriter } from "../../../templates/app/core/dataset_writes.js";
import { connectFeatures, initialState } from "../../../templates/app/feature_list.js";
import { EMBEDDING_SIZE, pageConfig } from "./project.mjs";

await tf.setBackend("cpu");

export { EMBEDDING_SIZE, SETTINGS_SPEC, pageConfig } from "./project.mjs";

// Storage that keeps nothing and records every write (core/dataset_writes.js commit), or
// refuses them all with `refuse` as its message.
export function recordingStorage(refuse = null) {
  const writes = [];
  const write = async (kind, change) => {
    if (refuse) throw new Error(refuse);
    writes.push({ kind, change });
  };
  return {
    writes,
    change: (change) => write("change", change),
    replaceAll: (change) => write("replaceAll", change),
  };
}

// A page whose model has loaded (status "ready"): {context, store, events, actions, api, storage,
// notices, emitted, close}. `notices` are the page's messages, `emitted` the API's events, in
// order; `close()` ends the undo offer's timer, which would keep the test's process alive.
export function fakePage({ project = pageConfig(), storage = recordingStorage(), status = "ready" } = {}) {
  const store = createStore({ ...initialState(project), status });
  const events = createEvents();
  const notices = [];
  const emitted = [];
  for (const name of ["samples", "epoch", "trained", "prediction", "error", "notice"])
    events.on(name, (payload) => emitted.push({ name, payload }));
  const context = {
    project,
    store,
    events,
    options: {},
    services: { writer: createWriter(), storage, embedder: null, approvalAnswers: new Map() },
    notify(text, kind = "info", about = {}) {
      notices.push({ text, kind, ...about });
      store.set({ notice: { text, kind, ...about, sequence: store.get().notice.sequence + 1 } });
      events.emit("notice", { text, kind });
    },
  };
  connectFeatures(context); // as main.js does
  const api = createPageApi({ ...context, ready: Promise.resolve() });
  const close = () => clearTimeout(context.services.undoTimer);
  return { context, store, events, actions: context.actions, api, storage, notices, emitted, close };
}

// page(options) → fakePage(options), each closed after its test: call once at the top of a test file
// (it registers the file's afterEach).
export function closedAfterEach() {
  const pages = [];
  afterEach(() => pages.splice(0).forEach((each) => each.close()));
  return (options) => {
    pages.push(fakePage(options));
    return pages.at(-1);
  };
}

// An embedding near the unit vector of `axis` (one axis per class), so that classes are easy to tell
// apart.
export function embeddingNear(axis, random, spread = 0.2) {
  const values = new Float32Array(EMBEDDING_SIZE);
  for (let i = 0; i < EMBEDDING_SIZE; i += 1) values[i] = (random() - 0.5) * spread;
  values[axis % EMBEDDING_SIZE] += 1;
  return values;
}

// `perClass` samples of each class of the page, as the samples feature would have added them
// (embedding, JPEG crop and thumbnail as Blobs); put straight into the store.
export function addSamples(page, perClass, random) {
  const { dataset } = page.store.get();
  const added = [];
  dataset.classes.forEach((item, axis) => {
    for (let n = 0; n < perClass; n += 1) {
      added.push({
        id: newId(),
        classId: item.id,
        added: added.length,
        embedding: embeddingNear(axis, random),
        image: new Blob([Uint8Array.of(0xff, 0xd8, axis, n)], { type: "image/jpeg" }),
        thumb: new Blob([Uint8Array.of(0xff, 0xd8, n, axis)], { type: "image/jpeg" }),
      });
    }
  });
  page.store.set({ dataset: dataset.withSamples(added) });
  return added;
}
