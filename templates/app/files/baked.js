// A model baked into the site by `teachkit build --trained FILE`: the page opens with it, ready to
// predict. In predict mode it is all the page has; in teach mode it is where a new visitor starts.
import { Dataset } from "../learning/dataset.js";
import { decodeBase64 } from "./inlined.js";
import { restoreHead } from "../learning/head.js";
import { adoptHead } from "../features/training.js";

function floats(text) {
  return new Float32Array(decodeBase64(text).buffer);
}

function jpeg(text) {
  return new Blob([decodeBase64(text)], { type: "image/jpeg" });
}

// Makes the baked model the page's: its classes, the samples shipped with it (--with-samples)
// and its trained head. Returns false when the site has none.
export function useBakedModel(context) {
  const { project, store } = context;
  const baked = project.trained;
  if (!baked) return false;
  const samples = baked.samples.map((sample, index) => ({
    id: sample.id,
    classId: sample.classId,
    added: index,
    embedding: floats(sample.embedding),
    image: sample.image ? jpeg(sample.image) : null,
    thumb: sample.thumb ? jpeg(sample.thumb) : null,
  }));
  // Samples without pictures (a kNN head's, without --with-samples) serve the head only.
  const shown = samples.filter((sample) => sample.image);
  const record = {
    ...baked.head,
    model: { ...baked.head.model, weights: baked.head.model.weights.map(floats) },
    sampleCount: shown.length,
  };
  store.set({ dataset: new Dataset(baked.classes, shown) });
  adoptHead(context, restoreHead(record.model, project.model.embedding_size, samples), record);
  const epochs = record.history.length;
  store.set({
    training: {
      state: "done",
      epoch: epochs,
      epochs,
      history: record.history,
      evaluation: record.evaluation,
      stale: false,
    },
  });
  return true;
}
