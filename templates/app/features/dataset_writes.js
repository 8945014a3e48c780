// Every change of the classes or samples: shown at once, stored in one transaction, and taken
// back if the browser's storage refuses it, so the page never shows what would be lost on reload.
import { TeachkitError } from "../core/errors.js";

export async function changeDataset({ store, services }, dataset, persist) {
  const previous = store.get().dataset;
  store.set({ dataset });
  if (!services.storage) return;
  try {
    await persist(services.storage);
  } catch (error) {
    store.set({ dataset: previous });
    throw new TeachkitError("storage", error.message);
  }
}
