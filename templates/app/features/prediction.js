// Predicting: one image, or live from the camera with as many frames in flight as there are
// workers. Owns `prediction`, `predictionCount`, `live` and `liveFps`.
import { TeachkitError } from "../core/errors.js";
import { nearest, typicalSimilarity } from "../learning/dataset.js";
import { canvasJpeg, openImage } from "../media/images.js";
import { answeringHead, answeringModel } from "../learning/answering.js";
import { nextVideoFrame, videoReady } from "../media/camera.js";
import { whenTrained } from "../core/guards.js";
import { formatValue } from "../learning/values.js";

// The embedding of a picture or frame; while the heatmap is shown (features/explain.js's
// `explain.show`) also the base model's feature map from the same pass, {map, rows, cols}, which
// the explanation reads from the prediction. Only then: copying a 7 × 7 × 1280 map out of the
// worker for every live frame would cost frames nobody looks at. The crop is taken before the
// first await, as embedSource's.
async function embedForPrediction({ services, store }, source) {
  const pixels = services.cropper.crop(source);
  if (!(store.get().explain?.show && services.embedder.hasMap))
    return { embedding: await services.embedder.embed(pixels), featureMap: null };
  const { embedding, map, rows, cols } = await services.embedder.embedWithMap(pixels);
  return { embedding, featureMap: map ? { map, rows, cols } : null };
}

// Below this share of how alike a class's own samples are, the nearest samples are too unlike the
// image for the answer to mean much (an image of none of the classes still gets a top class).
const UNSURE_BELOW = 0.7;

export function initialState() {
  return { prediction: null, predictionCount: 0, live: false, liveFps: null };
}

function stopLive({ store }) {
  if (store.get().live) store.set({ live: false });
}

// The prediction shown is the answer of the head that answers: when that head changes (other
// than by training, which leaves the last answer up) it is cleared. Live prediction stops when
// training starts, when the trained head is forgotten, when a project file replaces the session
// and when the camera is stopped.
export function react(context) {
  const { store, events } = context;
  store.subscribe((state, previous) => {
    const training = state.training.state === "training";
    if (training && previous.training.state !== "training") stopLive(context);
    if (previous.head && !state.head) stopLive(context);
    const answering = state.head !== previous.head || state.openedModel !== previous.openedModel;
    if (answering && !training && store.get().prediction) store.set({ prediction: null });
  });
  events.on("camera-stopped", () => stopLive(context));
  events.on("project-imported", () => {
    stopLive(context);
    if (store.get().prediction) store.set({ prediction: null });
  });
}

// The prediction as the API gives it: by class name, or the number on a regression page.
export function describePrediction(prediction) {
  if (prediction.value !== undefined)
    return {
      value: prediction.value,
      label: prediction.label,
      neighbors: prediction.neighbors.map(({ className, similarity, value }) => ({
        className,
        similarity,
        value,
      })),
      sure: prediction.sure,
      source: prediction.origin,
      milliseconds: prediction.milliseconds,
    };
  return {
    label: prediction.label,
    confidence: prediction.confidence,
    confidences: Object.fromEntries(prediction.scores.map((score) => [score.name, score.probability])),
    neighbors: prediction.neighbors.map(({ className, similarity }) => ({ className, similarity })),
    sure: prediction.sure,
    source: prediction.origin,
    milliseconds: prediction.milliseconds,
  };
}

// What the head answers: the most probable class with every class's probability, or the number
// (a regression head has one output, and no probabilities).
function answer(state, head, name, embedding) {
  const outputs = head.predict(embedding);
  if (head.kind === "regression") {
    const value = outputs[0];
    return { label: formatValue(state.regression, value), value, classId: head.classIds[0], scores: [] };
  }
  const scores = head.classIds.map((classId, index) => ({
    classId,
    name: name(classId),
    probability: outputs[index],
  }));
  const best = scores.reduce((a, b) => (b.probability > a.probability ? b : a));
  return { label: best.name, classId: best.classId, confidence: best.probability, scores };
}

// `image` is a JPEG of what was classified (a file), or null (a camera frame: it is on screen).
function showPrediction({ store, events }, { embedding, featureMap }, origin, started, image = null) {
  const { head, name, dataset } = answeringModel(store.get());
  const best = answer(store.get(), head, name, embedding);
  const neighbors = dataset
    ? nearest(dataset.samples, embedding, 3).map(({ sample, similarity }) => ({
        sample,
        className: name(sample.classId),
        similarity,
        value: sample.value,
      }))
    : [];
  const typical = dataset ? typicalSimilarity(dataset, best.classId) : null;
  const prediction = {
    ...best,
    neighbors,
    sure: typical === null || !neighbors.length || neighbors[0].similarity >= UNSURE_BELOW * typical,
    origin,
    image,
    embedding, // for the panels that look closer (features/imagenet.js, features/embedding_map.js)
    featureMap, // while the heatmap is shown (features/explain.js), else null
    milliseconds: performance.now() - started,
  };
  store.set({ prediction, predictionCount: store.get().predictionCount + 1 });
  const described = describePrediction(prediction);
  events.emit("prediction", described);
  return described;
}

async function runLive(context, video) {
  const { store, services } = context;
  let frames = 0;
  let windowStart = performance.now();
  let taken = 0;
  let shown = 0; // with two workers an older frame can finish last; it is not shown
  let failure = null;
  const going = () => store.get().live && answeringHead(store.get()) && !failure;
  let nextFrame = nextVideoFrame(video);
  while (going()) {
    await services.embedder.whenIdle();
    await nextFrame;
    // Ask for the following frame first: one that arrives while this one is embedded is used at once.
    nextFrame = nextVideoFrame(video);
    if (!going()) break;
    const frame = (taken += 1);
    const started = performance.now();
    embedForPrediction(context, video)
      .then((embedded) => {
        if (!store.get().live || !answeringHead(store.get()) || frame < shown) return;
        shown = frame;
        showPrediction(context, embedded, "camera", started);
        frames += 1;
        const elapsed = performance.now() - windowStart;
        if (elapsed >= 1000) {
          store.set({ liveFps: (frames * 1000) / elapsed });
          frames = 0;
          windowStart = performance.now();
        }
      })
      .catch((error) => (failure ??= error));
  }
  if (failure) throw new TeachkitError("failed", `Live prediction stopped: ${failure.message}`);
}

export const actions = {
  // Resolves to {label, confidence, confidences, neighbors, source, milliseconds}.
  predict: {
    can: whenTrained,
    async run(context, image) {
      const started = performance.now();
      const opened = await openImage(image);
      const name = image?.name ?? "image";
      let embedded;
      let picture;
      try {
        const embedding = embedForPrediction(context, opened.source); // crops at once, onto the cropper's canvas
        picture = canvasJpeg(context.services.cropper.canvas, 0.8);
        embedded = await embedding;
      } catch (error) {
        throw new TeachkitError("bad_image", `"${name}" could not be classified: ${error.message}`);
      } finally {
        opened.close();
      }
      return showPrediction(context, embedded, name, started, picture);
    },
  },

  // Resolves once live prediction has started; it runs until stopLive (or the camera stops).
  startLive: {
    can: whenTrained,
    async run(context) {
      const { store } = context;
      if (store.get().live) return;
      store.set({ live: true, liveFps: null });
      let video;
      try {
        video = await videoReady(context);
      } catch (error) {
        store.set({ live: false });
        throw error;
      }
      // A failure to start reaches the caller; one while running reaches the page and `error`.
      runLive(context, video).catch((error) => {
        store.set({ live: false });
        context.notify(error.message, "error");
        context.events.emit("error", { code: error.code, message: error.message, action: "startLive" });
      });
    },
  },

  stopLive: {
    can: () => null,
    run: (context) => stopLive(context),
  },
};
