// The classes: add, rename, delete, clear. Owns `dataset.classes` (the samples feature owns the
// samples of the same Dataset). Every change is stored first and shown once stored; deleting and
// clearing can be undone for a few seconds (features/undo.js).
import { TeachkitError } from "../core/errors.js";
import { newId } from "../learning/dataset.js";
import { commit } from "../core/dataset_writes.js";
import { classById, whenIdle } from "../core/guards.js";

const MAX_NAME = 40;

function checkedName(dataset, rawName, exceptId = null) {
  const name = String(rawName ?? "").trim();
  if (!name) throw new TeachkitError("bad_name", "A class needs a name.");
  if (name.length > MAX_NAME)
    throw new TeachkitError("bad_name", `Class names can have at most ${MAX_NAME} characters.`);
  if (dataset.hasName(name, exceptId))
    throw new TeachkitError("bad_name", `There is already a class named "${name}".`);
  return name;
}

function samplesWords(count) {
  return count === 1 ? "1 sample" : `${count} samples`;
}

export const actions = {
  // Resolves to the new class {id, name}; without a name it is "Class N".
  addClass: {
    can: whenIdle,
    run(context, rawName = null) {
      if (rawName !== null && rawName !== undefined) checkedName(context.store.get().dataset, rawName);
      return commit(context, (state) => {
        const { dataset } = state;
        let name;
        if (rawName === null || rawName === undefined) {
          let number = dataset.classes.length + 1;
          while (dataset.hasName(`Class ${number}`)) number += 1;
          name = `Class ${number}`;
        } else {
          name = checkedName(dataset, rawName);
        }
        const item = { id: newId(), name };
        const next = dataset.withClass(item);
        return {
          // The trained head does not know the new class: it is forgotten in the same write.
          stored: { classes: next.classes, head: state.head ? null : undefined },
          show() {
            context.store.set({ dataset: next });
            context.events.emit("classes-changed", {
              reason: "A class was added: train again to include it.",
              notify: context.notify,
            });
            return item;
          },
        };
      });
    },
  },

  renameClass: {
    can: whenIdle,
    run(context, id, rawName) {
      const { dataset } = context.store.get();
      classById(dataset, id);
      checkedName(dataset, rawName, id);
      return commit(context, (state) => {
        classById(state.dataset, id);
        const next = state.dataset.withRenamed(id, checkedName(state.dataset, rawName, id));
        return { stored: { classes: next.classes }, show: () => context.store.set({ dataset: next }) };
      });
    },
  },

  // The class, its samples and (if deleting it made it useless) the trained head can be put back
  // with `undo` for a few seconds.
  deleteClass: {
    can: whenIdle,
    run(context, id) {
      classById(context.store.get().dataset, id);
      return commit(context, (state) => {
        const { dataset } = state;
        const item = classById(dataset, id);
        if (dataset.classes.length <= 2)
          throw new TeachkitError("bad_argument", "Keep at least two classes.");
        const samples = dataset.samplesOf(id);
        const next = dataset.withoutClass(id);
        const headRecord = state.head ? state.headRecord : null;
        return {
          stored: {
            classes: next.classes,
            deleteSamples: samples.map((sample) => sample.id),
            head: headRecord ? null : undefined,
          },
          show() {
            context.store.set({ dataset: next });
            context.events.emit("classes-changed", {
              reason: "A class was deleted: train again.",
              notify: context.notify,
            });
            const what = samples.length ? ` and its ${samplesWords(samples.length)}` : "";
            context.events.emit("deleted", {
              text: `Deleted the class "${item.name}"${what}.`,
              removed: { classItem: item, index: dataset.classes.indexOf(item), samples, headRecord },
            });
          },
        };
      });
    },
  },

  // The samples can be put back with `undo` for a few seconds.
  clearClass: {
    can: whenIdle,
    run(context, id) {
      classById(context.store.get().dataset, id);
      return commit(context, (state) => {
        const item = classById(state.dataset, id);
        const samples = state.dataset.samplesOf(id);
        if (!samples.length) return null;
        return {
          stored: { deleteSamples: samples.map((sample) => sample.id) },
          show() {
            context.store.set((now) => ({ dataset: now.dataset.withoutSamplesOf(id) }));
            context.events.emit("deleted", {
              text: `Deleted ${samplesWords(samples.length)} of "${item.name}".`,
              removed: { samples },
            });
          },
        };
      });
    },
  },
};
