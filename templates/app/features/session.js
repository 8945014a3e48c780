// Boot: the TF.js backend, the base model (in workers or on the page) and the visitor's stored
// session, which is also how another tab's changes are shown (features/sync.js). Owns `status`
// (loading → ready | error), `backend`, `notice` and `busy`.
import { chooseBackend, resolveWasmPaths } from "../backend.js";
import { Dataset } from "../dataset.js";
import { settleEmbedder, startWorkerPool } from "../embedder.js";
import { liteRtFiles } from "../litert_files.js";
import { BUILD_LABELS } from "../litert_model.js";
import { Storage } from "../storage.js";
import { reembed } from "./samples.js";
import { startSync } from "./sync.js";
import { restoreSettings, showStoredHead } from "./training.js";
import { clearUndo } from "./undo.js";
import { useBakedModel } from "./baked.js";

const EVERYTHING = new Set(["classes", "samples", "head", "settings"]);

export function initialState() {
  return {
    status: "loading",
    backend: null,
    notice: { text: "Loading the model…", kind: "info", sequence: 0 },
    busy: null, // text while samples are being added or recomputed
  };
}

function showEmbedder({ store }, embedder, liteRt) {
  const { backend } = store.get();
  if (!backend) return; // shown once the page's own backend is known
  const where = liteRt ? `${embedder.text} on LiteRT.js, ${BUILD_LABELS[liteRt.build]}` : embedder.text;
  const runtime = liteRt ? { name: "litert", build: liteRt.build } : { name: "tfjs", build: backend.build };
  store.set({ backend: { ...backend, where, workers: embedder.workerCount, runtime } });
}

// What LiteRT.js needs when the build chose it for the base model (project.model.runtime), else null:
// the build this browser runs, the .tflite and the compiled WebAssembly. The bytes go to the
// service worker too (features/offline.js), which keeps this build of LiteRT.js only once it is used.
async function liteRtSetup({ options, project, services }) {
  if (project.model.runtime !== "litert") return null;
  const files = await liteRtFiles();
  services.fetched.set(files.wasmUrl, files.wasm.bytes);
  return {
    build: files.build,
    modelSource: files.model,
    runtime: { glueUrl: files.glueUrl, wasmModule: files.wasm.module },
    workerUrl: options.liteRtWorkerUrl,
  };
}

async function startModel(context) {
  const { options, project, services, store } = context;
  const { requestedBackend, workers, model } = options;
  const inputSize = project.model.input_size;
  const wasmPaths = resolveWasmPaths(options.wasmUrls);
  const liteRt = await liteRtSetup(context);
  const workerUrl = liteRt ? liteRt.workerUrl : options.workerUrl;
  // The workers load while the page picks its own backend; TF.js's are only used if that is WASM,
  // LiteRT.js's whatever it is (the page's backend then only trains and runs the head).
  const mayUseWorkers = workers > 0 && workerUrl && (liteRt || [null, "wasm"].includes(requestedBackend));
  const load = liteRt
    ? { modelSource: liteRt.modelSource, runtime: liteRt.runtime, inputSize }
    : { modelSource: model, wasmPaths, wasmBinaries: options.wasmBinaries, inputSize };
  const pool = mayUseWorkers
    ? startWorkerPool({
        workers,
        workerUrl,
        load,
        onChange: (embedder) => showEmbedder(context, embedder, liteRt),
      }).catch((error) => error)
    : null;
  const backend = await chooseBackend({ requested: requestedBackend, wasmPaths });
  store.set({ backend });
  context.notify(`Loading the model on ${liteRt ? "LiteRT.js" : backend.text}…`);
  services.embedder = await settleEmbedder(backend.name, pool, model, inputSize, liteRt);
  showEmbedder(context, services.embedder, liteRt);
}

// Shows what Storage.load read: the classes and samples (a sample already shown keeps its object;
// one whose class is gone is left out), the settings, and the head if `kinds` has it (or if the
// head shown no longer fits the classes).
function showSaved(context, saved, kinds = EVERYTHING) {
  const { store } = context;
  const shown = new Map(store.get().dataset.samples.map((sample) => [sample.id, sample]));
  const classIds = new Set(saved.classes.map((item) => item.id));
  const samples = saved.samples
    .filter((sample) => classIds.has(sample.classId))
    .map((sample) => shown.get(sample.id) ?? sample);
  store.set({ dataset: new Dataset(saved.classes, samples) });
  restoreSettings(context, saved.settings);
  showStoredHead(context, saved.head, kinds.has("head") || kinds.has("import"));
}

// Another tab changed the stored session: show it, unless that tab is another version of the page
// with another base model (its embeddings would not fit this one's).
function showChanges(context, saved, kinds) {
  if (saved.modelKey !== context.project.model.fingerprint) {
    context.notify("This page was changed in another tab with another version of the page: reload this tab.");
    return;
  }
  clearUndo(context);
  showSaved(context, saved, kinds);
  context.notify("Updated with the changes made in another tab.");
}

// Opens IndexedDB and reads the stored session while the model loads (the two are independent):
// {saved}, {openError} or {loadError}; null for a prediction-only page, which stores nothing.
async function readStored(context) {
  const { options, project, services, store } = context;
  if (project.page?.mode === "predict") return null;
  try {
    services.storage = await Storage.open(options.storeName);
  } catch (error) {
    return { openError: error };
  }
  // Listening before reading: a change made while this reads is heard, and shown once ready.
  startSync(context, (saved, kinds) => showChanges(context, saved, kinds));
  try {
    // A fresh page stores its classes in the same transaction that found none.
    return {
      saved: await services.storage.load({
        classes: store.get().dataset.classes,
        modelKey: project.model.fingerprint,
      }),
    };
  } catch (error) {
    return { loadError: error };
  }
}

// Shows what readStored read, once the model is ready (a session stored with another base model is
// embedded again).
async function restore(context, stored) {
  const { project, services, store } = context;
  const modelKey = project.model.fingerprint;
  // A prediction-only page is its baked model and nothing else.
  if (!stored) {
    useBakedModel(context);
    return;
  }
  if (stored.openError) {
    context.notify(`${stored.openError.message} Samples will be lost when the page closes.`, "error");
    return;
  }
  try {
    if (stored.loadError) throw stored.loadError;
    const { saved } = stored;
    if (saved.started) {
      // A new visitor of a site built with --trained starts from its model.
      if (useBakedModel(context)) {
        const { dataset, headRecord } = store.get();
        await services.storage.replaceAll({
          classes: dataset.classes,
          samples: dataset.samples,
          head: headRecord,
          modelKey,
        });
      }
      return;
    }
    if (saved.modelKey !== modelKey) {
      saved.samples = await reembed(context, saved.samples);
      saved.head = null;
      await services.storage.replaceAll({ ...saved, modelKey });
    }
    showSaved(context, saved);
  } catch (error) {
    context.notify(`Saved samples could not be restored: ${error.message}`, "error");
  }
}

// A hosted build opened by double-click cannot fetch its model from file://: say so, with both fixes.
function loadProblem({ options }, error) {
  if (location.protocol === "file:" && typeof options.model === "string") {
    return (
      "This page was opened as a file, but it is the hosted build, which needs a web server to load " +
      "its model. Either serve its folder (teachkit serve, or any web server, then open the address " +
      "it prints), or build the single file (teachkit build --single-file), which opens by double-click."
    );
  }
  return `The model could not be loaded: ${error.message}`;
}

// Resolves once the page can take samples; rejects (after saying so on the page) if the model
// cannot load.
export async function boot(context) {
  const { store } = context;
  const stored = readStored(context);
  try {
    await startModel(context);
  } catch (error) {
    store.set({ status: "error" });
    context.notify(loadProblem(context, error), "error");
    throw error;
  }
  await restore(context, await stored);
  store.set({ status: "ready" });
  // For benchmarks and host pages: when samples can be added, and when a prediction can be made.
  performance.mark("teachkit:ready");
  if (store.get().head) performance.mark("teachkit:prediction-ready");
  const ready = store.get().head
    ? "Ready: show the camera an example or choose an image."
    : "Ready. Add examples to each class, then train.";
  if (store.get().notice.kind !== "error") context.notify(ready);
}
