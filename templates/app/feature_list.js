// Every feature of the page, and how they are joined on one context: main.js boots the page with
// them, and tests/js/support/page.mjs builds its page without a browser from the same list.
import { EVENTS } from "./api/page_api.js";
import { createActions } from "./core/actions.js";
import { Dataset, newId } from "./learning/dataset.js";
import * as approval from "./features/approval.js";
import * as capture from "./features/capture.js";
import * as classes from "./features/classes.js";
import * as cloud from "./features/cloud.js";
import * as embeddingMap from "./features/embedding_map.js";
import * as explain from "./features/explain.js";
import * as handIn from "./features/hand_in.js";
import * as imagenet from "./features/imagenet.js";
import * as modelExport from "./features/model_export.js";
import * as offline from "./features/offline.js";
import * as persistence from "./features/persistence.js";
import * as prediction from "./features/prediction.js";
import * as projectFile from "./features/project.js";
import * as regression from "./features/regression.js";
import * as samples from "./features/samples.js";
import * as session from "./features/session.js";
import * as testSet from "./features/test_set.js";
import * as teacher from "./features/teacher.js";
import * as training from "./features/training.js";
import * as undo from "./features/undo.js";

// In this order their state is made, their actions registered and their reactions wired.
export const FEATURES = [
  session,
  classes,
  regression,
  samples,
  undo,
  capture,
  training,
  prediction,
  explain,
  projectFile,
  modelExport,
  cloud,
  handIn,
  imagenet,
  approval,
  embeddingMap,
  testSet,
  teacher,
  offline,
  persistence,
];

// The store's first state: the project's classes, no samples, and each feature's own slice.
export function initialState(project) {
  return Object.assign(
    { dataset: new Dataset(project.classes.map((name) => ({ id: newId(), name }))) },
    ...FEATURES.map((feature) => feature.initialState?.(project) ?? {}),
  );
}

// What the visitor reads when a feature's reaction to another's event fails (restoring the trained
// head after an undo, say): the page may show less than this browser kept.
export function reactionFailed(error) {
  const reason = (typeof error === "string" ? error : error?.message) || "an unexpected error";
  return `Part of the page did not update after the last change (${reason}). Reload the page to see what this browser kept.`;
}

// Joins the features on `context` ({project, store, events, services, notify, …}): their actions,
// then their reactions to each other's events; a reaction that fails is told to the visitor. A
// listener of the API's events (`teachkit.on`) is a host's or a script's: its failure stays its own.
export function connectFeatures(context) {
  context.events.onFailure((error, name) => {
    if (EVENTS.includes(name)) return;
    // After the notices of the action that emitted the event (undo's "Restored …"), which would
    // otherwise replace it on the screen at once.
    queueMicrotask(() => context.notify(reactionFailed(error), "error", { reaction: name }));
  });
  context.actions = createActions(context);
  for (const feature of FEATURES) if (feature.actions) context.actions.register(feature.actions);
  // Features meet only here: each answers the others' events and store changes itself.
  for (const feature of FEATURES) feature.react?.(context);
}
