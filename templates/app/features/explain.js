// Why the model answered: where in the picture the evidence for a class is (issue 21). Owns
// `explain`: the heatmap toggle and class picker of Try it, the last explanation, and the progress
// of an occlusion test. The maps themselves are learning/explain.js's; this module finds the
// pixels and feature maps they need, and runs occlusion's patches through the embedder's workers.
//
// What "cam" (the class activation map) is for each head (learning/explain.js says why):
// - dense head without a hidden layer (head.hidden_units = []): each cell's value is w·f + b, the
//   logit the head gives that cell alone; their mean is the class's logit exactly (`exact`).
// - dense head with hidden layers: Grad-CAM on the pooled vector, the head's gradient at the
//   image's embedding dotted with each cell, shifted so that the mean is still the class's logit.
// - regression head: the same as a dense head, for the number instead of a logit.
// - k nearest neighbours: each cell's cosine with the class's nearest samples' mean direction
//   minus its best cosine with another class's (above 0: the region looks more like this class).
// "occlusion" works with every head and base model: each value is how much the class's score (the
// same score as the CAM's) drops when that part of the picture is greyed out.
import { TeachkitError, refusal } from "../core/errors.js";
import { whenTrained } from "../core/guards.js";
import { answeringModel } from "../learning/answering.js";
import {
  classActivationMap,
  occlusionPatches,
  occlusionScorer,
  occlusionSentence,
  occlusionValues,
  regionsSentence,
  strongestRegions,
} from "../learning/explain.js";
import { openImage } from "../media/images.js";

export const METHODS = ["cam", "occlusion"];
// 3 × 3 cells hidden at a time: one cell of a 7 × 7 grid (32 px) hides too little of a texture and
// adds edges of its own (learning/explain.js has the measurements).
const OCCLUSION_SPAN = 3;
// Patches embedded at a time: two per worker keeps every worker busy while the page reads answers.
const IN_FLIGHT_PER_WORKER = 2;
const DEFAULT_GRID = 7;

// `drops`: the map as it fills (the score's drop per cell, null where not measured yet), so the
// page can draw it under the moving patch.
const IDLE = { running: false, done: 0, total: 0, patch: null, rows: 0, cols: 0, drops: null };

export function initialState() {
  return { explain: { show: false, className: null, result: null, occlusion: IDLE, picture: null } };
}

function update({ store }, change) {
  store.set((state) => ({ explain: { ...state.explain, ...change } }));
}

// {head, classId, className} for `className` (null: the class the prediction shown answered, or
// the head's best for `embedding`); a regression head has one output and no class to choose.
function target(state, className, embedding) {
  const { head, name } = answeringModel(state);
  if (head.kind === "regression") return { head, classId: head.classIds[0], className: null };
  if (className === null || className === undefined) {
    const outputs = head.predict(embedding);
    const best = outputs.reduce((top, value, index) => (value > outputs[top] ? index : top), 0);
    return { head, classId: head.classIds[best], className: name(head.classIds[best]) };
  }
  const classId = head.classIds.find((id) => name(id) === className);
  if (classId === undefined) {
    const known = head.classIds.map((id) => `"${name(id)}"`).join(", ");
    throw new TeachkitError(
      "unknown_class",
      `There is no class named "${className}" (the classes: ${known}).`,
    );
  }
  return { head, classId, className };
}

// The slice's result, from a map's values.
function described({ className, method, rows, cols, values, exact, source }) {
  const plain = Array.from(values, (value) => (Number.isNaN(value) ? null : value));
  const named = className ?? "the number";
  return {
    className,
    method,
    rows,
    cols,
    values: plain,
    exact,
    regions: strongestRegions(values, rows, cols).map(({ zone, row, col, value }) => ({
      zone,
      row,
      col,
      value,
    })),
    sentence:
      method === "occlusion"
        ? occlusionSentence(values, rows, cols)
        : regionsSentence(values, rows, cols, named),
    source,
  };
}

function cam(state, mapped, className, source) {
  const chosen = target(state, className, mapped.embedding);
  const { rows, cols, values, exact } = classActivationMap(chosen.head, mapped.map, mapped, chosen.classId);
  return described({ className: chosen.className, method: "cam", rows, cols, values, exact, source });
}

// The input-sized pixels of an image the API or the page was given: its centre crop.
async function pixelsOf({ services }, image) {
  const opened = await openImage(image);
  try {
    return services.cropper.crop(opened.source);
  } catch (error) {
    throw new TeachkitError("bad_image", `The image could not be read: ${error.message}`);
  } finally {
    opened.close();
  }
}

// Greys one patch after another and embeds them in the workers, a few in flight; the slice's
// `occlusion` follows each patch answered, and stopOcclusion ends the run (the cells not measured
// stay null). `image` is opened here, after the slice says the test runs (a second start is
// refused at once). Resolves to the result, also set in the slice.
async function occlude(context, image, className, source) {
  const { store } = context;
  update(context, { occlusion: { ...IDLE, running: true } });
  try {
    return await occludePatches(context, await pixelsOf(context, image), className, source);
  } finally {
    const { occlusion } = store.get().explain;
    if (occlusion.running) update(context, { occlusion: { ...occlusion, running: false } });
  }
}

async function occludePatches(context, pixels, className, source) {
  const { services, store } = context;
  // The embedders may transfer the pixels' buffer to a worker: the patches are cut from a copy.
  const { width, height } = pixels;
  const original = { data: new Uint8ClampedArray(pixels.data), width, height };
  // The grid of the model's feature map, so the two maps of a picture have the same cells; a base
  // model without one gets Lite0's 7 × 7.
  const {
    embedding,
    rows: mapRows,
    cols: mapCols,
  } = services.embedder.hasMap
    ? await services.embedder.embedWithMap(pixels)
    : { embedding: await services.embedder.embed(pixels) };
  const rows = mapRows || DEFAULT_GRID;
  const cols = mapCols || DEFAULT_GRID;
  const chosen = target(store.get(), className, embedding);
  const score = occlusionScorer(chosen.head, embedding, chosen.classId);
  const base = score(embedding);
  const total = rows * cols;
  const scores = new Array(total).fill(null);
  const size = width;
  const running = () => store.get().explain.occlusion.running;
  if (!running()) return null;
  const drops = () =>
    Array.from(occlusionValues(base, scores), (value) => (Number.isNaN(value) ? null : value));
  update(context, { occlusion: { ...IDLE, running: true, total, rows, cols, drops: drops() } });
  const inFlight = new Set();
  const limit = Math.max(1, services.embedder.workerCount) * IN_FLIGHT_PER_WORKER;
  let failure = null;
  let done = 0;
  for (const patch of occlusionPatches(original, rows, cols, { span: OCCLUSION_SPAN })) {
    if (!running() || failure) break;
    const job = services.embedder
      .embed(patch.pixels)
      .then((occluded) => {
        if (!running()) return;
        scores[patch.index] = score(occluded);
        done += 1;
        const { row, col, left, top, width, height } = patch;
        const moved = { row, col, left, top, width, height, size };
        update(context, {
          occlusion: { running: true, done, total, patch: moved, rows, cols, drops: drops() },
        });
      })
      .catch((error) => (failure ??= error))
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const stopped = !running();
  if (failure) throw new TeachkitError("failed", `The occlusion test stopped: ${failure.message}`);
  const values = occlusionValues(base, scores);
  const result = described({
    className: chosen.className,
    method: "occlusion",
    rows,
    cols,
    values,
    exact: false,
    source,
  });
  if (stopped) result.sentence = `Stopped after ${done} of ${total} parts. ${result.sentence}`;
  update(context, { result });
  return result;
}

// The map of the picture Try it shows: the prediction's own (asked for while the heatmap is shown),
// else the still picture embedded again with its map.
async function pictureMap(context) {
  const { store, services } = context;
  const { prediction, explain } = store.get();
  if (!prediction) return null;
  if (prediction.featureMap) return { ...prediction.featureMap, embedding: prediction.embedding };
  if (explain.picture?.prediction === prediction) return explain.picture.mapped;
  if (!prediction.image || !services.embedder?.hasMap) return null;
  const mapped = await services.embedder.embedWithMap(await pixelsOf(context, prediction.image));
  if (store.get().prediction === prediction) update(context, { picture: { prediction, mapped } });
  return mapped;
}

// The heatmap of the picture Try it shows, for the class picked; nothing while it is hidden.
async function refresh(context) {
  const state = context.store.get();
  if (!state.explain.show || !state.prediction || state.explain.occlusion.running) return;
  const mapped = await pictureMap(context);
  const now = context.store.get();
  if (!mapped?.map || !now.explain.show || now.prediction !== state.prediction) return;
  const source = state.prediction.image ? "image" : "live";
  update(context, { result: cam(now, mapped, now.explain.className, source) });
}

const stillPicture = (state) =>
  whenTrained(state) ??
  (state.prediction?.image
    ? null
    : refusal(
        "not_supported",
        "Classify a picture in Try it first: the occlusion test hides parts of a still picture.",
      ));

const notRunning = (state) =>
  state.explain.occlusion.running
    ? refusal("busy", "An occlusion test is running; wait for it or stop it.")
    : null;

function checkedMethod(method) {
  if (!METHODS.includes(method))
    throw new TeachkitError("bad_argument", `No method "${method}"; the methods: "cam", "occlusion".`);
}

// Each live frame (and each picture classified while the heatmap is shown) brings its feature map
// with its prediction: its CAM follows at once. A new answering head makes the last result stale.
export function react(context) {
  const { store } = context;
  store.subscribe((state, previous) => {
    if (state.head !== previous.head || state.openedModel !== previous.openedModel) {
      if (state.explain.result || state.explain.picture) update(context, { result: null, picture: null });
      return;
    }
    const changed =
      state.prediction !== previous.prediction ||
      state.explain.show !== previous.explain.show ||
      state.explain.className !== previous.explain.className;
    if (!changed) return;
    if (!state.prediction && state.explain.result?.source !== "image") {
      if (state.explain.result) update(context, { result: null });
      return;
    }
    refresh(context).catch((error) => context.notify(error.message, "error"));
  });
}

export const actions = {
  // explain(image, {className, method}) → the slice's result for the image (source "image").
  explain: {
    can: (state, image, options) =>
      whenTrained(state) ?? (options?.method === "occlusion" ? notRunning(state) : null),
    async run(context, image, options = {}) {
      const { className = null, method = "cam" } = options ?? {};
      checkedMethod(method);
      if (method === "occlusion") return occlude(context, image, className, "image");
      const mapped = await context.services.embedder.embedWithMap(await pixelsOf(context, image));
      const result = cam(context.store.get(), mapped, className, "image");
      update(context, { result });
      return result;
    },
  },

  setExplainShown: {
    can: () => null,
    run(context, show) {
      update(context, { show: Boolean(show), ...(show ? {} : { result: null }) });
    },
  },

  // null: the class the model answers.
  setExplainClass: {
    can: () => null,
    run(context, className) {
      const state = context.store.get();
      if (className !== null && answeringModel(state).head) target(state, className, null);
      update(context, { className });
    },
  },

  // On the still picture Try it shows; resolves when the test ends or is stopped.
  startOcclusion: {
    can: (state) => stillPicture(state) ?? notRunning(state),
    async run(context) {
      const { prediction, explain } = context.store.get();
      return occlude(context, prediction.image, explain.className, "image");
    },
  },

  stopOcclusion: {
    can: () => null,
    run(context) {
      const { occlusion } = context.store.get().explain;
      if (occlusion.running) update(context, { occlusion: { ...occlusion, running: false } });
    },
  },
};
