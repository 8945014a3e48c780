// The map of the examples: every sample's embedding projected to two dimensions, PCA at once and
// UMAP (umap-js, in a worker started only then) on request, with the current image placed among
// them. Owns `embeddingMap`: whether the panel is open, the PCA of the samples it was computed for,
// the last UMAP (the places of the samples it was run on), a UMAP under way and which map is shown.
import { TeachkitError, refusal } from "../core/errors.js";
import { nearest } from "../learning/dataset.js";
import { centres, pca2, pcaPoint, placeAmong } from "../learning/projection.js";

const METHODS = ["pca", "umap"];
const UMAP_MIN = 3; // umap-js needs more samples than neighbours, and two neighbours at least
const PLACE_NEIGHBORS = 5; // the current image sits among its nearest samples on the UMAP map

export function initialState() {
  return {
    embeddingMap: {
      open: false,
      pca: null, // {dataset, model: {mean, components}, places: Map(sample id → [x, y])}
      umap: null, // {key, places: Map(sample id → [x, y])}
      running: null, // {epoch, epochs} while UMAP runs
      shown: "pca",
    },
  };
}

function setMap({ store }, change) {
  store.set({ embeddingMap: { ...store.get().embeddingMap, ...change } });
}

const keys = new WeakMap(); // dataset → the ids of its samples, in order: what a UMAP was run on

function samplesKey(dataset) {
  if (!keys.has(dataset)) keys.set(dataset, dataset.samples.map((sample) => sample.id).join(","));
  return keys.get(dataset);
}

// The PCA of `dataset`'s samples, warm-started from `previous` (cheap for one more sample).
function computePca(dataset, previous) {
  const { samples } = dataset;
  if (!samples.length) return { dataset, model: null, places: new Map() };
  const model = pca2(
    samples.map((sample) => sample.embedding),
    previous,
  );
  const places = new Map(samples.map((sample) => [sample.id, pcaPoint(model, sample.embedding)]));
  return { dataset, model, places };
}

function ensurePca(context) {
  const { dataset, embeddingMap } = context.store.get();
  if (embeddingMap.pca?.dataset === dataset) return embeddingMap.pca;
  const pca = computePca(dataset, embeddingMap.pca?.model ?? null);
  setMap(context, { pca });
  return pca;
}

// The UMAP for the current samples, if one was run on exactly them.
export function currentUmap(state) {
  const { umap } = state.embeddingMap;
  return umap && umap.key === samplesKey(state.dataset) ? umap : null;
}

// The map the view shows: UMAP when asked for and still of these samples, otherwise PCA.
export function shownMethod(state) {
  return state.embeddingMap.shown === "umap" && currentUmap(state) ? "umap" : "pca";
}

function projection(state, method, umap = currentUmap(state)) {
  if (method === "umap") return umap?.places ?? null;
  const { pca } = state.embeddingMap;
  return pca?.dataset === state.dataset ? pca.places : null;
}

// The points of a map: [{x, y, sampleId, classId, className, heldOut}] (held back by the current
// settings' split, as samples() says). Null when that map is not computed for these samples.
export function mapPoints(state, method, umap = currentUmap(state)) {
  const places = projection(state, method, umap);
  if (!places) return null;
  const { dataset, settings } = state;
  const { validation } = dataset.split(settings.training.validation_fraction, settings.training.seed);
  const heldOut = new Set(validation.map((sample) => sample.id));
  return dataset.samples
    .filter((sample) => places.has(sample.id))
    .map((sample) => {
      const [x, y] = places.get(sample.id);
      return {
        x,
        y,
        sampleId: sample.id,
        classId: sample.classId,
        className: dataset.classById(sample.classId)?.name ?? "?",
        heldOut: heldOut.has(sample.id),
      };
    });
}

// The current image (the last prediction's embedding) on a map: {x, y} or null. On the PCA map it
// is projected like the samples; on the UMAP map it sits at the similarity-weighted mean of its
// nearest samples' places (UMAP has no projection to apply to one new point at 20 frames a second).
export function mapCurrent(state, method, umap = currentUmap(state)) {
  const embedding = state.prediction?.embedding;
  if (!embedding) return null;
  if (method === "pca") {
    const { pca } = state.embeddingMap;
    if (pca?.dataset !== state.dataset || !pca.model) return null;
    const [x, y] = pcaPoint(pca.model, embedding);
    return { x, y };
  }
  const places = projection(state, method, umap);
  if (!places) return null;
  const placed = state.dataset.samples.filter((sample) => places.has(sample.id));
  const neighbors = nearest(placed, embedding, PLACE_NEIGHBORS).map(({ sample, similarity }) => ({
    place: places.get(sample.id),
    similarity,
  }));
  const place = placeAmong(neighbors);
  return place && { x: place[0], y: place[1] };
}

// The class whose centre on the map is nearest `current`: {classId, className} or null.
export function nearestCentre(points, current) {
  if (!current || !points?.length) return null;
  let best = null;
  for (const [classId, [x, y]] of centres(points, (point) => point.classId)) {
    const distance = (x - current.x) ** 2 + (y - current.y) ** 2;
    if (!best || distance < best.distance) best = { classId, distance };
  }
  return { classId: best.classId, className: points.find((p) => p.classId === best.classId).className };
}

export function describeMap(state, method, umap = currentUmap(state)) {
  const points = mapPoints(state, method, umap) ?? [];
  return {
    method,
    points: points.map(({ x, y, sampleId, className, heldOut }) => ({ x, y, sampleId, className, heldOut })),
    current: mapCurrent(state, method, umap),
  };
}

// Runs UMAP in a worker of its own, which stops when done. Resolves to {key, places}.
function runUmap(context, dataset) {
  const { samples } = dataset;
  const size = samples[0].embedding.length;
  const vectors = new Float32Array(samples.length * size);
  samples.forEach((sample, index) => vectors.set(sample.embedding, index * size));
  const seed = context.store.get().settings.training.seed;
  setMap(context, { running: { epoch: 0, epochs: 1 } });
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker(context.options.umapWorkerUrl);
    } catch (error) {
      reject(new Error(`the UMAP worker could not start (${error.message})`));
      return;
    }
    worker.onmessage = ({ data }) => {
      if (data.type === "progress")
        return setMap(context, { running: { epoch: data.epoch, epochs: data.epochs } });
      worker.terminate();
      if (data.type === "failed") return reject(new Error(data.message));
      const places = new Map(
        samples.map((sample, index) => [sample.id, [data.places[index * 2], data.places[index * 2 + 1]]]),
      );
      resolve({ key: samplesKey(dataset), places });
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(event.message || "the UMAP worker stopped"));
    };
    worker.postMessage({ type: "fit", vectors, size, seed }, [vectors.buffer]);
  }).finally(() => setMap(context, { running: null }));
}

// The UMAP of the current samples: the last one if it is of them, otherwise a new run. `change`
// (to the map's state) is made together with storing it: one redraw of the map, not two.
async function ensureUmap(context, change = {}) {
  const { store, services } = context;
  const current = currentUmap(store.get());
  if (current) {
    if (Object.keys(change).length) setMap(context, change);
    return current;
  }
  const { dataset } = store.get();
  const key = samplesKey(dataset);
  // One UMAP at a time, shared by its callers: {key, promise}.
  let run = services.umapRun;
  if (!run || run.key !== key) {
    run = { key, promise: runUmap(context, dataset) };
    services.umapRun = run;
  }
  try {
    const umap = await run.promise;
    setMap(context, { umap, ...change });
    return umap;
  } catch (error) {
    throw new TeachkitError("failed", `The map could not be refined with UMAP: ${error.message}`);
  } finally {
    if (services.umapRun === run) services.umapRun = null;
  }
}

function checkMethod(method) {
  return METHODS.includes(method)
    ? null
    : refusal("bad_argument", `The map's method is "pca" or "umap" (got ${JSON.stringify(method)}).`);
}

function enoughForUmap(state) {
  return state.dataset.samples.length >= UMAP_MIN
    ? null
    : refusal("no_samples", `Refining the map with UMAP needs at least ${UMAP_MIN} examples.`);
}

// While the panel is open, the PCA follows the samples (after the change that caused it, so a
// burst of added samples costs one update).
export function start(context) {
  const { store } = context;
  let pending = false;
  store.subscribe((state, previous) => {
    if (!state.embeddingMap.open || pending) return;
    if (state.dataset === previous.dataset && state.embeddingMap.open === previous.embeddingMap.open) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      if (store.get().embeddingMap.open) ensurePca(context);
    }, 0);
  });
}

export const actions = {
  // The panel opened or closed: the PCA is computed while it is open.
  showEmbeddingMap: {
    can: () => null,
    async run(context, open) {
      setMap(context, { open: Boolean(open) });
      if (open) ensurePca(context);
    },
  },

  // Which map the panel shows; "umap" runs UMAP first when the samples changed since the last.
  chooseMapMethod: {
    can: (state, method) =>
      checkMethod(method) ??
      (method === "umap" ? enoughForUmap(state) : null) ??
      (method === "umap" && state.embeddingMap.running
        ? refusal("busy", "The map is being refined; wait a moment.")
        : null),
    async run(context, method) {
      if (method === "pca") return setMap(context, { shown: "pca" });
      await ensureUmap(context, { shown: "umap" });
      context.notify(
        "The map is refined with UMAP: close neighbours stay close, distances far apart mean less.",
      );
    },
  },

  // The API's map: {points: [{x, y, sampleId, className, heldOut}], method, current}.
  embeddingMap: {
    can: (state, options) =>
      checkMethod(options?.method ?? "pca") ??
      ((options?.method ?? "pca") === "umap" ? enoughForUmap(state) : null),
    async run(context, { method = "pca" } = {}) {
      if (method === "pca") {
        ensurePca(context);
        return describeMap(context.store.get(), "pca");
      }
      const umap = await ensureUmap(context);
      return describeMap(context.store.get(), "umap", umap);
    },
  },
};
