// The classes: add, rename, delete, clear. Owns `dataset.classes` (the samples feature owns the
// samples of the same Dataset).
import { TeachkitError } from "../core/errors.js";
import { newId } from "../dataset.js";
import { changeDataset } from "./dataset_writes.js";
import { whenIdle } from "./guards.js";
import { invalidateHead } from "./training.js";

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

export function classById(dataset, id) {
  const item = dataset.classById(id);
  if (!item) throw new TeachkitError("unknown_class", "That class no longer exists.");
  return item;
}

export const actions = {
  // Resolves to the new class {id, name}; without a name it is "Class N".
  addClass: {
    can: whenIdle,
    async run(context, rawName = null) {
      const { dataset } = context.store.get();
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
      await changeDataset(context, next, (storage) => storage.saveClasses(next.classes));
      invalidateHead(context, "A class was added: train again to include it.");
      return item;
    },
  },

  renameClass: {
    can: whenIdle,
    async run(context, id, rawName) {
      const { dataset } = context.store.get();
      classById(dataset, id);
      const next = dataset.withRenamed(id, checkedName(dataset, rawName, id));
      await changeDataset(context, next, (storage) => storage.saveClasses(next.classes));
    },
  },

  deleteClass: {
    can: whenIdle,
    async run(context, id) {
      const { dataset } = context.store.get();
      classById(dataset, id);
      if (dataset.classes.length <= 2) throw new TeachkitError("bad_argument", "Keep at least two classes.");
      const removed = dataset.samplesOf(id).map((sample) => sample.id);
      const next = dataset.withoutClass(id);
      await changeDataset(context, next, async (storage) => {
        await storage.saveClasses(next.classes);
        await storage.deleteSamples(removed);
      });
      invalidateHead(context, "A class was deleted: train again.");
    },
  },

  clearClass: {
    can: whenIdle,
    async run(context, id) {
      const { dataset } = context.store.get();
      classById(dataset, id);
      const removed = dataset.samplesOf(id).map((sample) => sample.id);
      await changeDataset(context, dataset.withoutSamplesOf(id), (storage) => storage.deleteSamples(removed));
    },
  },
};
