// Images become samples: the embedding of a centre crop through the base model, plus two small
// JPEGs. Shared by the features that add samples (samples, capture) or embed an image to ask about
// it (prediction, test set, ImageNet panel), and by the ones that embed stored crops again with
// another base model (session, project file).
import { commit } from "../core/dataset_writes.js";
import { newId } from "./dataset.js";
import { canvasJpeg } from "../media/images.js";

const THUMB_SIZE = 64;
// Stored crops embedded at a time: enough to keep every worker busy, few enough that decoded
// crops never pile up.
const IN_FLIGHT = 16;

// The embedding of an image, video frame or canvas: its centre crop through the base model. The
// crop is taken before the first await, so the caller may close or advance the source at once.
export function embedSource({ services }, source) {
  return services.embedder.embed(services.cropper.crop(source));
}

// Keeps only the embedding and two small JPEGs of a decoded image or video frame; the frame is
// read at once, the embedding arrives later. `value` is the sample's number on a regression page.
export async function makeSample(context, classId, source, value = undefined) {
  const { cropper, embedder } = context.services;
  const pixels = cropper.crop(source);
  const crop = cropper.canvas;
  const thumbCanvas = context.services.thumbCanvas;
  thumbCanvas.getContext("2d").drawImage(crop, 0, 0, THUMB_SIZE, THUMB_SIZE);
  const image = canvasJpeg(crop, 0.9);
  const thumb = canvasJpeg(thumbCanvas, 0.8);
  // Strictly increasing, so the order samples were taken in is the order they come back in.
  const added = Math.max(Date.now(), (context.services.lastAdded ?? 0) + 0.001);
  context.services.lastAdded = added;
  const embedding = await embedder.embed(pixels);
  const sample = { id: newId(), classId, embedding, image, thumb, added };
  if (value !== undefined) sample.value = value;
  return sample;
}

// Stores `samples` in one transaction, then shows them. Samples of a class deleted meanwhile are
// dropped, and a sample already shown (a reload from another tab may bring it) is not shown twice.
export function saveSamples(context, samples) {
  if (!samples.length) return Promise.resolve();
  return commit(context, (state) => {
    const shown = new Set(state.dataset.samples.map((sample) => sample.id));
    const fresh = samples.filter(
      (sample) => !shown.has(sample.id) && state.dataset.classById(sample.classId),
    );
    if (!fresh.length) return null;
    return {
      stored: { putSamples: fresh },
      show: () => context.store.set((now) => ({ dataset: now.dataset.withSamples(fresh) })),
    };
  });
}

// Samples made with another base model get their embeddings again, from their stored crops.
export async function reembed(context, samples) {
  const { store } = context;
  store.set({ busy: `Updating ${samples.length} samples for this page's model…` });
  const updated = [];
  try {
    // A batch at a time, so every worker has work but decoded crops never pile up.
    for (let start = 0; start < samples.length; start += IN_FLIGHT) {
      const batch = samples.slice(start, start + IN_FLIGHT);
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
