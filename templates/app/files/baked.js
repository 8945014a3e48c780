// A model baked into the site by `teachkit build --trained FILE`: the page opens with it, ready to
// predict. In predict mode it is all the page has; in teach mode it is where a new visitor starts
// (features/session.js shows its classes and samples; features/training.js adopts its head).
import { decodeBase64 } from "./inlined.js";

function floats(text) {
  return new Float32Array(decodeBase64(text).buffer);
}

function jpeg(text) {
  return new Blob([decodeBase64(text)], { type: "image/jpeg" });
}

// The baked model read from the page's project, or null when the site has none: its `classes`,
// the `samples` its head needs, those of them `shown` as the page's samples (--with-samples), and
// the head's `record`.
export function readBakedModel(project) {
  const baked = project.trained;
  if (!baked) return null;
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
  return { classes: baked.classes, samples, shown, record };
}
