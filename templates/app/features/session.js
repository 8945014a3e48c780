// Boot: the TF.js backend, the base model (in workers or on the page) and the visitor's stored
// session, which is also how another tab's changes are shown (files/sync.js). Owns `status`
// (loading → ready | error), `backend`, `notice`, `busy` and `loadProblem`.
import { chooseBackend, leaveWrongSimd, resolveWasmPaths } from "../runtime/backend.js";
import { Dataset } from "../learning/dataset.js";
import { startBaseModel } from "../runtime/runtime_ladder.js";
import { Storage } from "../files/storage.js";
import { wasmFeatures } from "../runtime/wasm_features.js";
import { reembed } from "../learning/sampling.js";
import { startSync } from "../files/sync.js";
import { readBakedModel } from "../files/baked.js";

const EVERYTHING = new Set(["classes", "samples", "head", "settings"]);

export function initialState() {
  return {
    status: "loading",
    backend: null,
    notice: { text: "Loading the model…", kind: "info", sequence: 0 },
    busy: null, // text while samples are being added or recomputed
    loadProblem: null, // why the model could not load: the page's headline says it
  };
}

// What runs the base model, and why the faster runtimes above it do not (runtime/runtime_ladder.js).
function showEmbedder({ store }, embedder, rung, skipped, selfCheck = null) {
  const { backend } = store.get();
  if (!backend) return; // shown once the page's own backend is known
  store.set({
    backend: {
      ...backend,
      where: `${embedder.text} on ${rung.label}`,
      workers: embedder.workerCount,
      runtime: { name: rung.name, build: rung.build },
      skipped: skipped.map((rung) => ({ ...rung })),
      selfCheck: selfCheck ?? store.get().backend.selfCheck ?? null,
    },
  });
}

async function startModel(context) {
  const { options, store, services } = context;
  const features = wasmFeatures();
  const wasmPaths = resolveWasmPaths(options.wasmUrls);
  // The page's TF.js trains the head, and runs the base model when no worker can. Chosen once the
  // base model's first worker has started: a WebGL context can hold the page's thread a while.
  const page = Promise.resolve()
    .then(() => chooseBackend({ requested: options.requestedBackend, wasmPaths, simd: features.simd }))
    .then((backend) => {
      store.set({ backend });
      return backend;
    });
  page.catch(() => {}); // heard below, once the base model has started or failed
  const started = await startBaseModel(context, {
    features,
    page,
    wasmPaths,
    onChange: (embedder, rung, skipped) => showEmbedder(context, embedder, rung, skipped),
  });
  const backend = await page;
  const simdWrong = started.skipped.some(
    (rung) => rung.name === "tfjs" && rung.build === "simd" && "cosine" in rung,
  );
  if (simdWrong && backend.name === "wasm" && backend.build !== "plain")
    store.set({ backend: await leaveWrongSimd() });
  services.embedder = started.embedder;
  showEmbedder(context, started.embedder, started.rung, started.skipped, started.selfCheck);
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
  context.events.emit("session-read", { saved, kinds }); // its settings and head: features/training.js
}

// Another tab changed the stored session: show it, unless that tab is another version of the page
// with another base model (its embeddings would not fit this one's).
function showChanges(context, saved, kinds) {
  if (saved.modelKey !== context.project.model.fingerprint) {
    context.notify("This page was changed in another tab with another version of the page: reload this tab.");
    return;
  }
  context.events.emit("session-replaced", {});
  showSaved(context, saved, kinds);
  context.notify("Updated with the changes made in another tab.");
}

// Makes the site's baked model the page's: its classes and samples here, its head in
// features/training.js. Returns false when the site has none.
function useBakedModel(context) {
  const baked = readBakedModel(context.project);
  if (!baked) return false;
  context.store.set({ dataset: new Dataset(baked.classes, baked.shown) });
  context.events.emit("baked-model", { record: baked.record, samples: baked.samples });
  return true;
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
    const problem = loadProblem(context, error);
    store.set({ status: "error", loadProblem: problem });
    context.notify(problem, "error");
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
