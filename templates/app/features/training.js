// The settings, training the head on the samples' embeddings, and the trained head itself (kept in
// the store, disposed here when replaced). Owns `settings`, `training`, `head` and `headRecord`
// (what is stored and exported for the head: its weights, class ids, history and evaluation).
import { TeachkitError, refusal } from "../core/errors.js";
import { createHead, evaluate, restoreHead } from "../head.js";
import { applySettings } from "../settings.js";
import { whenReady } from "./guards.js";
import { stopLive } from "./prediction.js";

export function initialState(project) {
  return {
    settingSpecs: project.settings, // from the project schema: bounds, labels, help
    settings: { head: { ...project.head }, training: { ...project.training } },
    training: { state: "idle", epoch: 0, epochs: 0, history: [], evaluation: null, stale: false },
    stopRequested: false,
    head: null,
    headRecord: null,
  };
}

function doneTraining(record) {
  const epochs = record.history.length;
  return {
    state: "done",
    epoch: epochs,
    epochs,
    history: record.history,
    evaluation: record.evaluation,
    stale: false,
  };
}

// Makes `head` (with its stored `record`) the trained head, disposing the one before; null forgets it.
export function adoptHead({ store }, head, record) {
  const previous = store.get().head;
  if (previous && previous !== head) previous.dispose();
  store.set({ head, headRecord: head ? record : null });
}

export function restoreTrainedHead(context, saved) {
  const { dataset } = context.store.get();
  if (!saved.classIds.every((id) => dataset.classById(id))) return;
  const head = restoreHead(saved.model, context.project.model.embedding_size, dataset.samples);
  adoptHead(context, head, saved);
  context.store.set({ training: doneTraining(saved) });
}

// The classes changed under the head: it no longer fits them.
export function invalidateHead(context, reason) {
  const { store, services } = context;
  if (!store.get().head) return;
  stopLive(context);
  adoptHead(context, null, null);
  services.storage?.saveHead(null).catch(() => {});
  store.set({ prediction: null, training: { ...store.get().training, state: "idle", stale: true } });
  context.notify(reason);
}

function emptyClasses(dataset) {
  const counts = dataset.counts();
  return dataset.classes.filter((item) => counts[item.id] === 0).map((item) => `"${item.name}"`);
}

// The evaluation as the API gives it: by class name, in the head's class order.
export function describeEvaluation(dataset, record) {
  if (!record?.evaluation) return null;
  const { evaluation } = record;
  return {
    accuracy: evaluation.accuracy,
    count: evaluation.count,
    onValidation: evaluation.onValidation,
    classes: record.classIds.map((id) => dataset.classById(id)?.name ?? "?"),
    perClass: evaluation.perClass,
    confusion: evaluation.confusion,
  };
}

const whileTraining = (state) =>
  whenReady(state) ??
  (state.training.state === "training" ? refusal("busy", "Training is already running.") : null);

export const actions = {
  // `change` is {head?: {...}, training?: {...}}; every value is checked against the spec first.
  changeSettings: {
    can: whileTraining,
    run({ store, project }, change) {
      store.set({ settings: applySettings(project.settings, store.get().settings, change) });
      return store.get().settings;
    },
  },

  // Resolves when training ends to {history, evaluation}.
  train: {
    can: whileTraining,
    async run(context, change = null) {
      const { store, project, events } = context;
      if (change) store.set({ settings: applySettings(project.settings, store.get().settings, change) });
      const { dataset, settings } = store.get();
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
      stopLive(context);
      store.set({
        stopRequested: false,
        training: { state: "training", epoch: 0, epochs, history, evaluation: null, stale: false },
      });
      context.notify(`Training on ${training.length} samples, checking on ${validation.length}…`);
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
      const evaluation = {
        ...evaluate(head, validation.length ? validation : training),
        onValidation: validation.length > 0,
      };
      const record = { model: head.toJSON(), classIds, history, evaluation };
      adoptHead(context, head, record);
      store.set({ training: { ...store.get().training, state: "done", evaluation } });
      const stopped = store.get().stopRequested ? " (stopped early)" : "";
      context.notify(`Training done${stopped}. Try it with the camera or an image.`);
      const result = { history, evaluation: describeEvaluation(store.get().dataset, record) };
      events.emit("trained", result);
      try {
        await context.services.storage?.saveHead(record);
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
