// The samples: images become embeddings (once, when added) plus two small JPEGs. Each sample is
// stored as soon as its embedding arrives and shown once stored, while the workers go on with the
// next images. Owns `dataset.samples` and `busy`.
import { TeachkitError } from "../core/errors.js";
import { openImage } from "../media/images.js";
import { embedSource, makeSample, saveSamples } from "../learning/sampling.js";
import { commit } from "../core/dataset_writes.js";
import { classById, whenIdle, whenReady } from "../core/guards.js";
import { sampleValue } from "../learning/values.js";

// Images read and waiting for their embedding or their turn to be stored: enough to keep every
// worker busy, few enough that decoded crops never pile up.
const IN_FLIGHT = 16;

// Opens one image and starts its sample. Resolves once the image is read, to {result}: a promise
// of the sample or of a sentence saying why there is none (wrapped, so that awaiting this does not
// also wait for the embedding).
async function startSample(context, classId, image, index, value) {
  let opened;
  try {
    opened = await openImage(image, index);
  } catch (error) {
    return { result: error.message };
  }
  try {
    const sample = makeSample(context, classId, opened.source, value); // reads the image before returning
    const name = image?.name ? `"${image.name}"` : `Image ${index + 1}`;
    return { result: sample.catch((error) => `${name} could not be added: ${error.message}`) };
  } finally {
    opened.close();
  }
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

export const actions = {
  // Resolves to {added, problems: [sentence]}; unreadable images are named and skipped. Samples
  // are stored in the order given, each as soon as its embedding is there; if the browser's
  // storage refuses one, those stored before stay and the rest are not added. On a regression
  // page every image gets `options.value`, or the slider's value.
  addImages: {
    can: whenIdle,
    async run(context, classId, images, options = {}) {
      const { store } = context;
      classById(store.get().dataset, classId);
      const value = sampleValue(store.get(), options?.value);
      const list = Array.from(images ?? []);
      const noun = list.every((image) => image instanceof File) ? "files" : "images";
      const problems = [];
      let added = 0;
      let failure = null;
      let stored = Promise.resolve(); // the samples' writes, one after another in upload order
      const waiting = new Set();
      const storeOne = async (result) => {
        const made = await result;
        if (typeof made === "string") return void problems.push(made);
        if (failure) return;
        if (!store.get().dataset.classById(classId)) {
          failure = new TeachkitError("unknown_class", "The class was deleted while its images were added.");
          return;
        }
        try {
          await saveSamples(context, [made]);
          added += 1;
        } catch (error) {
          failure = error;
        }
      };
      try {
        for (const [index, image] of list.entries()) {
          while (waiting.size >= IN_FLIGHT && !failure) await Promise.race(waiting);
          if (failure) break;
          store.set({ busy: `Adding image ${index + 1} of ${list.length}…` });
          const { result } = await startSample(context, classId, image, index, value);
          const step = stored.then(() => storeOne(result));
          stored = step;
          waiting.add(step);
          step.then(() => waiting.delete(step));
        }
        await stored;
      } finally {
        store.set({ busy: null });
      }
      if (failure)
        throw new TeachkitError(
          failure.code ?? "failed",
          `Added ${added} of ${list.length} ${noun}. ${failure.message}`,
        );
      if (problems.length)
        context.notify(`Added ${added} of ${list.length} ${noun}. ${problems.join(" ")}`, "error");
      else context.notify(`Added ${plural(added, "image")}.`);
      return { added, problems };
    },
  },

  // The sample can be put back with `undo` for a few seconds.
  deleteSample: {
    can: whenIdle,
    run(context, id) {
      return commit(context, (state) => {
        const sample = state.dataset.samples.find((item) => item.id === id);
        if (!sample) throw new TeachkitError("bad_argument", "That sample no longer exists.");
        const name = state.dataset.classById(sample.classId)?.name ?? "?";
        return {
          stored: { deleteSamples: [id] },
          show() {
            context.store.set((now) => ({ dataset: now.dataset.withoutSample(id) }));
            context.events.emit("deleted", {
              text: `Deleted a sample of "${name}".`,
              removed: { samples: [sample] },
            });
          },
        };
      });
    },
  },

  // The embedding of any image, the way samples get theirs (for scripts and benchmarks).
  embed: {
    can: whenReady,
    async run(context, image) {
      const opened = await openImage(image);
      try {
        return await embedSource(context, opened.source);
      } finally {
        opened.close();
      }
    },
  },
};
