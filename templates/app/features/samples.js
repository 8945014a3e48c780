// The samples: images become embeddings (once, when added) plus two small JPEGs; uploads come in
// batches so the workers embed while the next files decode. Owns `dataset.samples` and `busy`.
import { TeachkitError } from "../core/errors.js";
import { newId } from "../dataset.js";
import { canvasJpeg, openImage } from "../images.js";
import { changeDataset } from "./dataset_writes.js";
import { whenIdle, whenReady } from "./guards.js";
import { classById } from "./classes.js";

const THUMB_SIZE = 64;
const SAVE_BATCH = 16;

// The embedding of an image, video frame or canvas: its centre crop through the base model. The
// crop is taken before the first await, so the caller may close or advance the source at once.
export function embedSource({ services }, source) {
  return services.embedder.embed(services.cropper.crop(source));
}

// Keeps only the embedding and two small JPEGs of a decoded image or video frame; the frame is
// read at once, the embedding arrives later.
export async function makeSample(context, classId, source) {
  const { cropper, embedder } = context.services;
  const pixels = cropper.crop(source);
  const crop = cropper.canvas;
  const thumbCanvas = context.services.thumbCanvas;
  thumbCanvas.getContext("2d").drawImage(crop, 0, 0, THUMB_SIZE, THUMB_SIZE);
  const image = canvasJpeg(crop, 0.9);
  const thumb = canvasJpeg(thumbCanvas, 0.8);
  const added = Date.now() + Math.random();
  const embedding = await embedder.embed(pixels);
  return { id: newId(), classId, embedding, image, thumb, added };
}

export async function saveSamples(context, samples) {
  if (!samples.length) return;
  const next = context.store.get().dataset.withSamples(samples);
  await changeDataset(context, next, (storage) => storage.addSamples(samples));
}

// Samples made with another base model get their embeddings again, from their stored crops.
export async function reembed(context, samples) {
  const { store } = context;
  store.set({ busy: `Updating ${samples.length} samples for this page's model…` });
  const updated = [];
  try {
    // A batch at a time, so every worker has work but decoded crops never pile up.
    for (let start = 0; start < samples.length; start += SAVE_BATCH) {
      const batch = samples.slice(start, start + SAVE_BATCH);
      const embeddings = await Promise.all(
        batch.map(async (sample) => {
          const bitmap = await createImageBitmap(sample.image);
          try {
            return await embedSource(context, bitmap);
          } finally {
            bitmap.close();
          }
        }),
      );
      batch.forEach((sample, index) => updated.push({ ...sample, embedding: embeddings[index] }));
    }
  } finally {
    store.set({ busy: null });
  }
  return updated;
}

// Opens one image and starts its sample. Resolves once the image is read, to {result}: a promise
// of the sample or of a sentence saying why there is none (wrapped, so that awaiting this does not
// also wait for the embedding).
async function startSample(context, classId, image, index) {
  let opened;
  try {
    opened = await openImage(image, index);
  } catch (error) {
    return { result: error.message };
  }
  try {
    const sample = makeSample(context, classId, opened.source); // reads the image before returning
    const name = image?.name ? `"${image.name}"` : `Image ${index + 1}`;
    return { result: sample.catch((error) => `${name} could not be added: ${error.message}`) };
  } finally {
    opened.close();
  }
}

export const actions = {
  // Resolves to {added, problems: [sentence]}; unreadable images are named and skipped.
  addImages: {
    can: whenIdle,
    async run(context, classId, images) {
      const { store } = context;
      classById(store.get().dataset, classId);
      const list = Array.from(images ?? []);
      const problems = [];
      let added = 0;
      try {
        for (let start = 0; start < list.length; start += SAVE_BATCH) {
          const started = [];
          for (const [offset, image] of list.slice(start, start + SAVE_BATCH).entries()) {
            store.set({ busy: `Adding image ${start + offset + 1} of ${list.length}…` });
            started.push(await startSample(context, classId, image, start + offset));
          }
          const results = await Promise.all(started.map(({ result }) => result));
          problems.push(...results.filter((result) => typeof result === "string"));
          const samples = results.filter((result) => typeof result !== "string");
          await saveSamples(context, samples);
          added += samples.length;
        }
      } finally {
        store.set({ busy: null });
      }
      const noun = list.every((image) => image instanceof File) ? "files" : "images";
      if (problems.length)
        context.notify(`Added ${added} of ${list.length} ${noun}. ${problems.join(" ")}`, "error");
      else context.notify(`Added ${added} image${added === 1 ? "" : "s"}.`);
      return { added, problems };
    },
  },

  deleteSample: {
    can: whenIdle,
    async run(context, id) {
      const { dataset } = context.store.get();
      if (!dataset.samples.some((sample) => sample.id === id))
        throw new TeachkitError("bad_argument", "That sample no longer exists.");
      await changeDataset(context, dataset.withoutSample(id), (storage) => storage.deleteSamples([id]));
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
