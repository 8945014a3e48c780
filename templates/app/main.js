// Boot: read the project embedded in the page, build the store, the actions of every feature and
// the services, mount the views, expose the public API and, for allowed host pages, the embed
// connection.
import { connectHost } from "./api/embed_child.js";
import { classCounts, createPageApi } from "./api/page_api.js";
import { TeachkitError } from "./core/errors.js";
import { createEvents } from "./core/events.js";
import { createStore } from "./core/store.js";
import { createVideo } from "./media/camera.js";
import { Cropper } from "./media/crop.js";
import { readEmbeddedAssets } from "./files/inlined.js";
import { createWriter } from "./core/dataset_writes.js";
import { FEATURES, connectFeatures, initialState } from "./feature_list.js";
import * as session from "./features/session.js";
import { mountPage } from "./ui/page.js";

const THUMB_SIZE = 64;

function storeName() {
  // One store per page location: several demos on one site (one origin) keep their samples apart.
  const path = location.pathname.replace(/index\.html$/, "");
  return `teachkit:${path}`;
}

// Two workers embed two frames at once; more would only compete for the cores the page needs.
function workerCount(parameters) {
  const requested = parameters.get("workers");
  if (requested !== null && /^[0-4]$/.test(requested)) return Number(requested);
  return Math.min(2, navigator.hardwareConcurrency || 1);
}

function canvas(size) {
  const element = document.createElement("canvas");
  element.width = size;
  element.height = size;
  return element;
}

// The URL of the app's script the page config names under `key` (builder/prebuilt.py's BUNDLES):
// the file beside a hosted page, or the blob of the copy a single file carries; null if the site
// has none.
function scriptUrl(project, embedded, key) {
  const name = project.scripts[key];
  if (!name) return null;
  return embedded ? embedded.scripts[name] : new URL(name, document.baseURI).href;
}

function createContext(project) {
  const parameters = new URLSearchParams(location.search);
  const embedded = readEmbeddedAssets(document);
  const script = (key) => scriptUrl(project, embedded, key);
  const store = createStore(initialState(project));
  const events = createEvents();
  const context = {
    project,
    store,
    events,
    options: {
      requestedBackend: parameters.get("backend"),
      workers: workerCount(parameters),
      wasmUrls: embedded?.wasmUrls ?? {},
      wasmBinaries: embedded?.wasmBinaries ?? {},
      model: embedded?.model ?? new URL("model/model.json", document.baseURI).href,
      workerUrl: script("tfjs_worker"),
      // LiteRT.js, when the build chose it for the base model (hosted builds; its files: litert_files.js).
      liteRtWorkerUrl: script("litert_worker"),
      umapWorkerUrl: script("umap_worker"),
      serviceWorkerUrl: script("service_worker"), // hosted sites (features/offline.js)
      storeName: storeName(),
      hosted: !embedded, // a hosted site registers its service worker (features/offline.js)
      // The base model's ImageNet classifier: the site's imagenet/ folder, or in the single file.
      imagenet: embedded ? document : new URL("imagenet/", document.baseURI).href,
    },
    // Filled in at boot: embedder (the base model), storage (IndexedDB) and sync (other tabs).
    services: {
      cropper: new Cropper(project.model.input_size),
      thumbCanvas: canvas(THUMB_SIZE),
      video: createVideo(),
      embedder: null,
      storage: null,
      writer: createWriter(), // the queue of stored changes (core/dataset_writes.js)
      sync: null,
      approvalAnswers: new Map(),
      imagenet: null, // the ImageNet classifier, once the panel has opened (features/imagenet.js)
      umapRun: null, // the UMAP under way (features/embedding_map.js)
      fetched: new Map(), // URL → bytes the page fetched that the service worker may keep (features/offline.js)
      submissionFiles: null, // a class's models' files, read once (features/teacher.js)
    },
    // `about` is {action, subject} for an action's own messages (core/actions.js), {reaction} for a
    // reaction that failed (feature_list.js).
    notify(text, kind = "info", about = {}) {
      const notice = { text, kind, ...about, sequence: store.get().notice.sequence + 1 };
      store.set({ notice });
      events.emit("notice", { text, kind });
    },
  };
  connectFeatures(context);
  // Derived events: whatever changed the samples, hosts hear the new counts.
  store.subscribe((state, previous) => {
    if (state.dataset !== previous.dataset) events.emit("samples", { counts: classCounts(state.dataset) });
  });
  return context;
}

function main() {
  const project = JSON.parse(document.getElementById("teachkit-project").textContent);
  const context = createContext(project);
  const ready = session
    .boot(context)
    // What each feature does once the page is ready (cloud: what this browser published).
    .then(() => Promise.all(FEATURES.map((feature) => feature.start?.(context))))
    .then(
      () => context.events.emit("ready", {}),
      (error) => {
        throw new TeachkitError("not_ready", `The model could not be loaded: ${error.message}`);
      },
    );
  ready.catch(() => {}); // reported on the page; a caller awaiting `ready` hears it too
  // After boot has started fetching the model: the views show whatever the store holds by then.
  mountPage(document.body, {
    store: context.store,
    can: context.actions.can,
    dispatch: (name, args = []) => context.actions.dispatch(name, args, { source: "ui" }),
    cameraVideo: context.services.video,
    // The teacher's view of a class (features/teacher.js), in a page that has a cloud.
    teacher: new URLSearchParams(location.search).has("teacher"),
  });
  const api = createPageApi({ ...context, ready });
  window.teachkit = api;
  connectHost(api, context);
}

main();
