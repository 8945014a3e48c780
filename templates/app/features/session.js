// Boot: the TF.js backend, the base model (in workers or on the page) and the visitor's stored
// session. Owns `status` (loading → ready | error), `backend`, `notice` and `busy`.
import { chooseBackend, resolveWasmPaths } from "../backend.js";
import { Dataset } from "../dataset.js";
import { settleEmbedder, startWorkerPool } from "../embedder.js";
import { Storage } from "../storage.js";
import { reembed } from "./samples.js";
import { restoreTrainedHead } from "./training.js";

export function initialState() {
  return {
    status: "loading",
    backend: null,
    notice: { text: "Loading the model…", kind: "info", sequence: 0 },
    busy: null, // text while samples are being added or recomputed
  };
}

function showEmbedder({ store }, embedder) {
  const { backend } = store.get();
  if (!backend) return; // shown once the page's own backend is known
  store.set({ backend: { ...backend, where: embedder.text, workers: embedder.workerCount } });
}

async function startModel(context) {
  const { options, project, services, store } = context;
  const { requestedBackend, workers, workerUrl, model } = options;
  const inputSize = project.model.input_size;
  const wasmPaths = resolveWasmPaths(options.wasmUrls);
  // The workers load while the page picks its own backend; they are only used if that is WASM.
  const mayUseWorkers = workers > 0 && workerUrl && [null, "wasm"].includes(requestedBackend);
  const pool = mayUseWorkers
    ? startWorkerPool({
        workers,
        workerUrl,
        modelSource: model,
        wasmPaths,
        wasmBinaries: options.wasmBinaries,
        inputSize,
        onChange: (embedder) => showEmbedder(context, embedder),
      }).catch((error) => error)
    : null;
  const backend = await chooseBackend({ requested: requestedBackend, wasmPaths });
  store.set({ backend });
  context.notify(`Loading the model on ${backend.text}…`);
  services.embedder = await settleEmbedder(backend.name, pool, model, inputSize);
  showEmbedder(context, services.embedder);
}

async function restore(context) {
  const { options, project, services, store } = context;
  const modelKey = project.model.fingerprint;
  try {
    services.storage = await Storage.open(options.storeName);
  } catch (error) {
    context.notify(`${error.message} Samples will be lost when the page closes.`, "error");
    return;
  }
  try {
    const saved = await services.storage.load();
    if (!saved.classes.length) {
      const { classes } = store.get().dataset;
      await services.storage.replaceAll({ classes, samples: [], head: null, modelKey });
      return;
    }
    let samples = saved.samples;
    if (saved.modelKey !== modelKey) {
      samples = await reembed(context, samples);
      await services.storage.replaceAll({ classes: saved.classes, samples, head: null, modelKey });
    }
    const dataset = new Dataset(saved.classes, samples);
    store.set({ dataset });
    if (saved.head && saved.modelKey === modelKey) restoreTrainedHead(context, saved.head);
  } catch (error) {
    context.notify(`Saved samples could not be restored: ${error.message}`, "error");
  }
}

// Resolves once the page can take samples; rejects (after saying so on the page) if the model
// cannot load.
export async function boot(context) {
  const { store } = context;
  try {
    await startModel(context);
  } catch (error) {
    store.set({ status: "error" });
    context.notify(`The model could not be loaded: ${error.message}`, "error");
    throw error;
  }
  await restore(context);
  store.set({ status: "ready" });
  // For benchmarks and host pages: when samples can be added, and when a prediction can be made.
  performance.mark("teachkit:ready");
  if (store.get().head) performance.mark("teachkit:prediction-ready");
  if (store.get().notice.kind !== "error") context.notify("Ready. Add examples to each class, then train.");
}
