// The settings, training the head on the samples' embeddings, and the trained head itself (kept in
// the store, disposed here when replaced). Owns `settings`, `training`, `head` and `headRecord`
// (what is stored and exported for the head: its weights, class ids, history and evaluation).
// The visitor's settings are stored as what they changed from the project's, so a page whose
// author changes a default or a bound keeps working.
import { TeachkitError, refusal } from "../core/errors.js";
import { createHead, evaluate, evaluateRegression, restoreHead, yieldToBrowser } from "../learning/head.js";
import { applySettings, mergeKnownSettings, projectSettings, settingChanges } from "../core/settings.js";
import { commit } from "../core/dataset_writes.js";
import { whenReady } from "../core/guards.js";

// A class with fewer samples held back than this has an accuracy that says little.
export const FEW_HELD_BACK = 3;

export function initialState(project) {
  return {
    settingSpecs: project.settings, // from the project schema: bounds, labels, help
    settings: projectSettings(project),
    training: { state: "idle", epoch: 0, epochs: 0, history: [], evaluation: null, stale: false },
    stopRequested: false,
    head: null,
    headRecord: null,
  };
}

// The stored changes applied to the project's settings, each checked against the spec: a value
// now out of bounds (the author changed them) gives way to the project's. Returns the names of
// the settings that gave way.
function restoreSettings({ store, project }, changes) {
  const { settings, ignored } = mergeKnownSettings(project.settings, projectSettings(project), changes);
  if (JSON.stringify(settings) !== JSON.stringify(store.get().settings)) store.set({ settings });
  return ignored;
}

// A page predicts classes or a number, as its project says; a visitor's settings cannot turn one
// into the other (the samples would have no classes, or no numbers, to learn).
function checkTask(project, change) {
  const type = change?.head?.type;
  if (type === undefined || (type === "regression") === (project.head.type === "regression")) return;
  throw new TeachkitError(
    "bad_setting",
    project.head.type === "regression"
      ? "This page's model predicts a number: its head stays a regression head."
      : "This page's samples are classes: a regression head needs a page built for numbers.",
  );
}

// Stores the settings (what differs from the project's), then shows them.
function saveSettings(context, change) {
  const { project } = context;
  checkTask(project, change);
  return commit(context, (state) => {
    const settings = applySettings(project.settings, state.settings, change);
    return {
      stored: { settings: settingChanges(project, settings) },
      show: () => {
        context.store.set({ settings });
        return settings;
      },
    };
  });
}

// The evaluation is measured on the held-back samples only. One stored by an older page that
// measured on the training samples (no samples held back) is shown as what it is: no measurement.
export function heldBackOnly(evaluation) {
  if (!evaluation) return null;
  if (evaluation.task === "regression") return evaluation; // always measured on the held-back samples
  const size = evaluation.confusion.length;
  const honest = evaluation.onValidation
    ? evaluation
    : {
        confusion: evaluation.confusion.map((row) => row.map(() => 0)),
        perClass: new Array(size).fill(null),
        accuracy: null,
        count: 0,
        onValidation: false,
      };
  const perClassCount = honest.confusion.map((row) => row.reduce((sum, value) => sum + value, 0));
  return { ...honest, perClassCount };
}

function doneTraining(record) {
  const epochs = record.history.length;
  return {
    state: "done",
    epoch: epochs,
    epochs,
    history: record.history,
    evaluation: heldBackOnly(record.evaluation),
    stale: false,
  };
}

// Makes `head` (with its stored `record`) the trained head, disposing the one before; null forgets it.
function adoptHead({ store }, head, record) {
  const previous = store.get().head;
  if (previous && previous !== head) previous.dispose();
  store.set({ head, headRecord: head ? record : null });
}

// Whether a head trained on `classIds` fits the dataset's classes: exactly those, in any order.
function fitsClasses(classIds, dataset) {
  return classIds.length === dataset.classes.length && classIds.every((id) => dataset.classById(id));
}

// Makes a stored head record the trained head if it was trained on exactly the current classes;
// returns whether it did.
function restoreTrainedHead(context, saved) {
  const { dataset } = context.store.get();
  if (!fitsClasses(saved.classIds, dataset)) return false;
  const head = restoreHead(saved.model, context.project.model.embedding_size, dataset.samples);
  adoptHead(context, head, saved);
  context.store.set({ training: doneTraining(saved) });
  return true;
}

// The classes changed under the head: it no longer fits them. Only the page's copy: the caller
// removes the stored one in the same write as the change of classes.
function invalidateHead(context, reason) {
  const { store } = context;
  if (!store.get().head) return;
  adoptHead(context, null, null);
  store.set({ training: { ...store.get().training, state: "idle", stale: true } });
  context.notify(reason);
}

// The head as stored (another tab trained, or forgot it): shown, or forgotten if it does not fit.
// With `changed` false the stored head is the one already shown; only whether it still fits the
// classes (which may have changed) is checked.
function showStoredHead(context, record, changed = true) {
  const { head, headRecord, dataset } = context.store.get();
  if (!changed && (!head || fitsClasses(headRecord.classIds, dataset))) return;
  if (record && restoreTrainedHead(context, record)) return;
  if (!head) return;
  adoptHead(context, null, null);
  context.store.set({ training: { ...context.store.get().training, state: "idle", stale: true } });
}

function emptyClasses(dataset) {
  const counts = dataset.counts();
  return dataset.classes.filter((item) => counts[item.id] === 0).map((item) => `"${item.name}"`);
}

// The evaluation as the API gives it: by class name, in the head's class order, always on the
// held-back samples (count 0 and accuracy null when none were held back). `perClassCount` is how
// many samples of each class were held back; `fewHeldBack` names the classes with fewer than
// FEW_HELD_BACK, whose accuracy says little.
export function describeEvaluation(dataset, record) {
  const evaluation = heldBackOnly(record?.evaluation);
  if (!evaluation) return null;
  if (evaluation.task === "regression") {
    const { count, mae, rmse, r2, points } = evaluation;
    return { task: "regression", count, mae, rmse, r2, points: points.map((point) => ({ ...point })) };
  }
  const classes = record.classIds.map((id) => dataset.classById(id)?.name ?? "?");
  return {
    accuracy: evaluation.accuracy,
    count: evaluation.count,
    onValidation: evaluation.onValidation,
    classes,
    perClass: evaluation.perClass,
    perClassCount: evaluation.perClassCount,
    confusion: evaluation.confusion,
    fewHeldBack: classes.filter((_, index) => evaluation.perClassCount[index] < FEW_HELD_BACK),
  };
}

// A regression head learns how the number changes: it needs samples with different numbers.
function checkValues(spec, dataset) {
  const values = new Set(dataset.samples.map((sample) => sample.value));
  if (values.size >= 2) return;
  const label = `"${spec.label}"`;
  throw new TeachkitError(
    "no_samples",
    dataset.samples.length < 2
      ? `Add at least two samples with different values of ${label} first.`
      : `All samples have the same value of ${label}: give some of them other values with the slider, ` +
          "so there is something to learn.",
  );
}

const whileTraining = (state) =>
  whenReady(state) ??
  (state.training.state === "training" ? refusal("busy", "Training is already running.") : null);

// The training after a head arrived whole (a project file, the site's baked model): done with its
// history and `evaluation`, or nothing trained.
function arrivedTraining(record, evaluation) {
  const history = record ? record.history : [];
  return {
    state: record ? "done" : "idle",
    epoch: history.length,
    epochs: history.length,
    history,
    evaluation: record ? evaluation : null,
    stale: false,
  };
}

// What the other features' changes mean for the head and the settings (core/events.js).
export function react(context) {
  const { events, store, project } = context;
  events.on("classes-changed", ({ reason, notify }) => invalidateHead({ ...context, notify }, reason));
  events.on("head-found", ({ record }) => restoreTrainedHead(context, record));
  events.on("session-read", ({ saved, kinds }) => {
    restoreSettings(context, saved.settings);
    showStoredHead(context, saved.head, kinds.has("head") || kinds.has("import"));
  });
  events.on("project-imported", ({ head, record, settings }) => {
    adoptHead(context, head, record);
    store.set({ settings, training: arrivedTraining(record, heldBackOnly(record?.evaluation)) });
  });
  events.on("baked-model", ({ record, samples }) => {
    adoptHead(context, restoreHead(record.model, project.model.embedding_size, samples), record);
    store.set({ training: arrivedTraining(record, record.evaluation) });
  });
}

export const actions = {
  // `change` is {head?: {...}, training?: {...}}; every value is checked against the spec first.
  changeSettings: {
    can: whileTraining,
    run: (context, change) => saveSettings(context, change),
  },

  // Resolves when training ends to {history, evaluation}.
  train: {
    can: whileTraining,
    async run(context, change = null) {
      const { store, project, events } = context;
      if (change) {
        applySettings(project.settings, store.get().settings, change); // refused before anything is stored
        await saveSettings(context, change);
        if (store.get().training.state === "training")
          throw new TeachkitError("busy", "Training is already running.");
      }
      const { dataset, settings, regression } = store.get();
      if (regression) checkValues(regression, dataset);
      const empty = emptyClasses(dataset);
      if (empty.length) {
        store.set({ training: { ...store.get().training, state: "error" } });
        throw new TeachkitError(
          "no_samples",
          `Add examples to ${empty.join(", ")} first: every class needs at least one sample to train.`,
        );
      }
      const { training, validation } = dataset.split(
        settings.training.validation_fraction,
        settings.training.seed,
      );
      const classIds = dataset.classes.map((item) => item.id);
      const head = createHead(settings.head, settings.training, project.model.embedding_size, classIds);
      const epochs = settings.head.type === "knn" ? 1 : settings.training.epochs;
      const history = [];
      store.set({
        stopRequested: false,
        training: { state: "training", epoch: 0, epochs, history, evaluation: null, stale: false },
      });
      context.notify(
        validation.length
          ? `Training on ${training.length} samples, checking on ${validation.length}…`
          : `Training on ${training.length} samples. None are held back for checking, so there will be ` +
              "no accuracy: add more samples to each class, or hold back a larger share in the settings.",
      );
      try {
        await head.train(training, validation, settings.training, {
          onEpoch: (entry) => {
            history.push(entry);
            store.set({ training: { ...store.get().training, epoch: entry.epoch, history: [...history] } });
            events.emit("epoch", { ...entry });
          },
          shouldStop: () => store.get().stopRequested,
        });
      } catch (error) {
        head.dispose();
        store.set({ training: { ...store.get().training, state: "error" } });
        throw new TeachkitError("failed", `Training failed: ${error.message}`);
      }
      // Measured on the held-back samples only: on the training samples it would flatter the head.
      const evaluation =
        head.kind === "regression"
          ? evaluateRegression(head, validation)
          : { ...evaluate(head, validation), onValidation: validation.length > 0 };
      await yieldToBrowser(); // the evaluation's slice ends here; the panels redraw in the next
      const record = {
        model: head.toJSON(),
        classIds,
        history,
        evaluation,
        sampleCount: dataset.samples.length,
      };
      adoptHead(context, head, record);
      store.set({
        training: { ...store.get().training, state: "done", evaluation: heldBackOnly(evaluation) },
      });
      const stopped = store.get().stopRequested ? " (stopped early)" : "";
      const unchecked = validation.length ? "" : " Its accuracy is unknown: no samples were held back.";
      context.notify(`Training done${stopped}.${unchecked} Try it with the camera or an image.`);
      const result = { history, evaluation: describeEvaluation(store.get().dataset, record) };
      events.emit("trained", result);
      try {
        // Unless the head was already replaced or forgotten by the time its turn came.
        await commit(context, (state) =>
          state.headRecord === record ? { stored: { head: record }, show: () => {} } : null,
        );
      } catch (error) {
        context.notify(error.message, "error");
      }
      return result;
    },
  },

  stopTraining: {
    can: () => null,
    run({ store }) {
      if (store.get().training.state === "training") store.set({ stopRequested: true });
    },
  },
};
