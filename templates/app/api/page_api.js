// window.teachkit: the page's public, versioned API (docs/embedding.md). Everything a
// script or a host page may do goes through the same actions as the page's own controls; class
// names stand for the page's internal class ids.
import { TeachkitError } from "../core/errors.js";
import { describePublished } from "../features/cloud.js";
import { describeEvaluation } from "../features/training.js";
import { METHODS } from "./methods.js";

export const API_VERSION = "1.5.0";
export const EVENTS = ["ready", "samples", "epoch", "trained", "prediction", "error", "notice"];

export function classCounts(dataset) {
  const counts = dataset.counts();
  return Object.fromEntries(dataset.classes.map((item) => [item.name, counts[item.id]]));
}

export function createPageApi({ store, actions, events, ready }) {
  const call = (name, ...args) => actions.dispatch(name, args, { source: "api" });
  const classId = (name) => {
    const item = store.get().dataset.classes.find((candidate) => candidate.name === name);
    if (!item) {
      const known = store.get().dataset.classes.map((candidate) => `"${candidate.name}"`);
      throw new TeachkitError(
        "unknown_class",
        `There is no class named "${name}" (the classes: ${known.join(", ")}).`,
      );
    }
    return item.id;
  };
  // A row of the table that only dispatches its action; one that names a class turns the name into
  // its id, and an unknown name rejects like any other failure.
  const plain = ({ action, params, byClass }) =>
    byClass
      ? async (name, ...args) => call(action, classId(name), ...args)
      : (...args) => call(action, ...params.map((_, index) => args[index]));

  // The methods that do more than dispatch their action.
  const written = {
    status() {
      const state = store.get();
      const recording = state.recordingClassId && state.dataset.classById(state.recordingClassId);
      return {
        state: state.status,
        // "classification", or "regression" on a page whose model predicts a number.
        task: state.regression ? "regression" : "classification",
        // On a regression page: the number the next samples get (the slider's value).
        targetValue: state.targetValue,
        backend: state.backend && {
          name: state.backend.name,
          build: state.backend.build,
          threads: state.backend.threads,
          workers: state.backend.workers ?? null,
          // What runs the base model: {name: "litert" | "tfjs", build} ("relaxed" | "compat" for
          // LiteRT.js; "simd" | "plain" for TF.js in workers, the page's build on the page).
          runtime: state.backend.runtime ?? null,
          // The faster runtimes not used, best first, and why: [{name, build, label, reason}], with
          // `cosine` (the probe's, below the floor) for one that failed its self-check.
          skipped: structuredClone(state.backend.skipped ?? []),
          // The start-up self-check the runtime in use passed: {cosine, floor}, or null.
          selfCheck: state.backend.selfCheck ? { ...state.backend.selfCheck } : null,
        },
        training: { state: state.training.state, epoch: state.training.epoch, epochs: state.training.epochs },
        trained: Boolean(state.head),
        camera: Boolean(state.camera.stream),
        recording: recording ? recording.name : null,
        live: state.live,
        predictions: state.predictionCount,
        // The last delete while it can be taken back: {text, expiresAt} (ms since the epoch).
        undo: state.undo && { text: state.undo.text, expiresAt: state.undo.expiresAt },
        // The model opened from the cloud that answers predictions: {id, title, labels}, or null.
        opened: state.openedModel && {
          id: state.openedModel.id,
          title: state.openedModel.title,
          labels: [...state.openedModel.labels],
        },
      };
    },
    classes: () => Object.entries(classCounts(store.get().dataset)).map(([name, count]) => ({ name, count })),
    addClass: async (name) => (await call("addClass", name ?? null)).name,
    // Every sample, with its embedding, its crop (a JPEG Blob) and whether the current settings
    // hold it back for checking.
    samples() {
      const { dataset, settings } = store.get();
      const { validation } = dataset.split(settings.training.validation_fraction, settings.training.seed);
      const heldOut = new Set(validation.map((sample) => sample.id));
      return dataset.samples.map((sample) => ({
        id: sample.id,
        className: dataset.classById(sample.classId)?.name ?? "?",
        embedding: sample.embedding.slice(),
        image: sample.image,
        heldOut: heldOut.has(sample.id),
        ...(sample.value === undefined ? {} : { value: sample.value }),
      }));
    },
    // The map of the examples (docs/page.md): every sample's embedding in two
    // dimensions, {points: [{x, y, sampleId, className, heldOut}], method, current: {x, y} | null}.
    embeddingMap: (options) => call("embeddingMap", options ?? {}),
    settings: () => structuredClone(store.get().settings),
    setSettings: async (change) => structuredClone(await call("changeSettings", change)),
    train: (change) => call("train", change ?? null),
    evaluation: () => describeEvaluation(store.get().dataset, store.get().headRecord),
    exportProject: async () => (await call("exportProject")).blob,
    // The trained model alone (see docs/exports.md): a zip for embed.js load(), TF.js and Python.
    downloadModel: async () => (await call("downloadModel")).blob,
    // The cloud copy (docs/exports.md); only in a page whose project has [cloud] url.
    // publish({title, note, includeSamples}) → {id, url, link}; the images go only with
    // includeSamples: true.
    publish: (options) => call("publish", options ?? {}),
    // What this browser published: [{id, title, url, link, created, withSamples}].
    published: () => describePublished(store.get().cloud.published),
    // What the base model itself sees: its ImageNet top k, [{synset, name, definition, path,
    // probability}] (only for base models with an ImageNet classifier).
    baseModelTopK: (image, k = 5) => call("baseModelTopK", image, k),
    // Where in `image` the evidence for a class is (features/explain.js): {className, method, rows,
    // cols, values}, `values` a plain array of rows × cols numbers, row-major from the top-left of
    // the centre crop, larger = more evidence; method "cam" (default) or "occlusion".
    async explain(image, options) {
      const { className, method, rows, cols, values } = await call("explain", image, options ?? {});
      return { className, method, rows, cols, values: [...values] };
    },
  };
  const on = (name, handler) => {
    if (!EVENTS.includes(name))
      throw new TeachkitError("bad_argument", `No event named "${name}"; the events: ${EVENTS.join(", ")}.`);
    if (typeof handler !== "function") throw new TeachkitError("bad_argument", "on() needs a function.");
    return events.on(name, handler);
  };
  const methods = METHODS.map((row) => [row.name, row.action ? plain(row) : written[row.name]]);
  return Object.freeze({ version: API_VERSION, ready, ...Object.fromEntries(methods), on });
}
