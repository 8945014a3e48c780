// A page without a browser: the store, events and actions of every feature, as main.js wires them,
// with fakes for what needs a browser (storage records its writes, no embedder, no camera). Tests
// drive it through `dispatch` and `window.teachkit`'s own object, and read the store.
import { afterEach } from "node:test";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { createPageApi } from "../../../templates/app/api/page_api.js";
import { createActions } from "../../../templates/app/core/actions.js";
import { createEvents } from "../../../templates/app/core/events.js";
import { createStore } from "../../../templates/app/core/store.js";
import { Dataset, newId } from "../../../templates/app/learning/dataset.js";
import * as approval from "../../../templates/app/features/approval.js";
import * as capture from "../../../templates/app/features/capture.js";
import * as classes from "../../../templates/app/features/classes.js";
import * as cloud from "../../../templates/app/features/cloud.js";
import { createWriter } from "../../../templates/app/core/dataset_writes.js";
import * as embeddingMap from "../../../templates/app/features/embedding_map.js";
import * as imagenet from "../../../templates/app/features/imagenet.js";
import * as modelExport from "../../../templates/app/features/model_export.js";
import * as offline from "../../../templates/app/features/offline.js";
import * as persistence from "../../../templates/app/features/persistence.js";
import * as prediction from "../../../templates/app/features/prediction.js";
import * as projectFile from "../../../templates/app/features/project.js";
import * as regression from "../../../templates/app/features/regression.js";
import * as samples from "../../../templates/app/features/samples.js";
import * as session from "../../../templates/app/features/session.js";
import * as testSet from "../../../templates/app/features/test_set.js";
import * as training from "../../../templates/app/features/training.js";
import * as undo from "../../../templates/app/features/undo.js";
import { EMBEDDING_SIZE, pageConfig } from "./project.mjs";

// main.js's FEATURES (main.js itself boots a page on import, so it cannot be imported here).
const FEATURES = [
  session,
  classes,
  regression,
  samples,
  undo,
  capture,
  training,
  prediction,
  projectFile,
  modelExport,
  cloud,
  imagenet,
  approval,
  embeddingMap,
  testSet,
  offline,
  persistence,
];

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
  const initial = Object.assign(
    { dataset: new Dataset(project.classes.map((name) => ({ id: newId(), name }))) },
    ...FEATURES.map((feature) => feature.initialState?.(project) ?? {}),
    { status },
  );
  const store = createStore(initial);
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
  context.actions = createActions(context);
  for (const feature of FEATURES) if (feature.actions) context.actions.register(feature.actions);
  for (const feature of FEATURES) feature.react?.(context);
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
