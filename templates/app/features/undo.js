// Undo for a few seconds after a delete (a sample, a class's samples, a class). Owns `undo`:
// {id, text, expiresAt, removed} while the last delete can be taken back, else null. `removed` is
// what the delete took away: {samples} (with their embeddings and pictures), and for a deleted
// class also {classItem, index, headRecord} (headRecord: the trained head the delete made useless,
// or null).
import { TeachkitError, refusal } from "../core/errors.js";
import { Dataset, newId } from "../learning/dataset.js";
import { commit } from "../core/dataset_writes.js";
import { whenIdle } from "../core/guards.js";

export const UNDO_SECONDS = 8;

export function initialState() {
  return { undo: null };
}

// Offers to take back the delete just made (the one before can no longer be taken back).
function offerUndo(context, text, removed) {
  const { store, services } = context;
  const id = newId();
  clearTimeout(services.undoTimer);
  services.undoTimer = setTimeout(() => {
    if (store.get().undo?.id === id) store.set({ undo: null });
  }, UNDO_SECONDS * 1000);
  store.set({ undo: { id, text, expiresAt: Date.now() + UNDO_SECONDS * 1000, removed } });
}

// The session changed as a whole (an import, another tab): what was deleted no longer fits it.
function clearUndo({ store, services }) {
  clearTimeout(services.undoTimer);
  if (store.get().undo) store.set({ undo: null });
}

function samplesWords(count) {
  return count === 1 ? "1 sample" : `${count} samples`;
}

// Why the delete in `undo` cannot be taken back in `state`, or null.
function undoProblem(state) {
  const { undo, dataset } = state;
  if (!undo || Date.now() > undo.expiresAt) return refusal("failed", "There is nothing to undo.");
  const { classItem, samples } = undo.removed;
  if (classItem) {
    if (dataset.hasName(classItem.name))
      return refusal("bad_name", `There is a class named "${classItem.name}" again: rename it to undo.`);
  } else if (samples.some((sample) => !dataset.classById(sample.classId))) {
    return refusal("unknown_class", "The class of those samples no longer exists.");
  }
  return null;
}

function restored(state, { classItem, index, samples }) {
  const { dataset } = state;
  const classes = dataset.classes.slice();
  if (classItem) classes.splice(Math.min(index, classes.length), 0, classItem);
  const present = new Set(dataset.samples.map((sample) => sample.id));
  const back = samples.filter((sample) => !present.has(sample.id));
  // Back in the order they were added, as a reload would show them.
  const all = [...dataset.samples, ...back].sort((a, b) => a.added - b.added);
  return { dataset: new Dataset(classes, all), back };
}

// The head record fits again if the classes are exactly the ones it was trained on and nothing
// was trained since.
function headFits(state, record, classes) {
  return (
    record &&
    !state.head &&
    record.classIds.length === classes.length &&
    classes.every((item) => record.classIds.includes(item.id))
  );
}

export function react(context) {
  const { events } = context;
  events.on("deleted", ({ text, removed }) => offerUndo(context, text, removed));
  events.on("session-replaced", () => clearUndo(context));
  events.on("project-imported", () => clearUndo(context));
}

export const actions = {
  // Takes back the last delete if it was less than UNDO_SECONDS ago, storing it again.
  undo: {
    can: (state) => whenIdle(state) ?? undoProblem(state),
    run(context) {
      return commit(context, (state) => {
        const problem = undoProblem(state);
        if (problem) throw new TeachkitError(problem.code, problem.message);
        const { removed } = state.undo;
        const { dataset, back } = restored(state, removed);
        const head = headFits(state, removed.headRecord, dataset.classes) ? removed.headRecord : undefined;
        return {
          stored: {
            classes: removed.classItem ? dataset.classes : undefined,
            putSamples: back,
            head,
          },
          show() {
            clearUndo(context);
            context.store.set({ dataset });
            // The training feature restores the head if it fits the classes as they are now.
            if (head) context.events.emit("head-found", { record: head });
            const model = head && context.store.get().headRecord === head;
            const samples = samplesWords(back.length);
            const name = removed.classItem?.name;
            if (!name) context.notify(`Restored ${samples}.`);
            else if (model) context.notify(`Restored "${name}", its ${samples} and the trained model.`);
            else if (removed.headRecord)
              context.notify(`Restored "${name}" and its ${samples}: train again.`);
            else context.notify(`Restored "${name}" and its ${samples}.`);
          },
        };
      });
    },
  },
};
