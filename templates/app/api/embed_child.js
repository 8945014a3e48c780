// The page's side of embed.js: when the page is in an iframe and the project allows the parent's
// origin, the same API is offered to that parent over postMessage (penpal). Messages from any
// other origin, or from any window that is not the parent, are ignored and get no answer. Calls
// that would hand the visitor's images or embeddings to the host wait for the visitor's consent.
import { WindowMessenger, connect } from "penpal";
import { TeachkitError, asTeachkitError } from "../core/errors.js";
import { requestApproval } from "../features/approval.js";
import { API_VERSION, EVENTS } from "./page_api.js";

// A reply that keeps the error's code: penpal passes only an error's name and message.
async function answer(work) {
  try {
    return { value: await work() };
  } catch (raw) {
    const error = asTeachkitError(raw);
    return { error: { code: error.code, message: error.message } };
  }
}

// `hostOrigin()` is the connected host's origin.
function hostMethods(api, context, hostOrigin) {
  const consent = async (what) => {
    const origin = hostOrigin();
    if (!(await requestApproval(context, origin, what)))
      throw new TeachkitError("forbidden", `The visitor did not allow ${origin} to ${what}.`);
  };
  const plain = {
    status: () => api.status(),
    classes: () => api.classes(),
    addClass: (name) => api.addClass(name),
    renameClass: (name, newName) => api.renameClass(name, newName),
    deleteClass: (name) => api.deleteClass(name),
    clearClass: (name) => api.clearClass(name),
    deleteSample: (id) => api.deleteSample(id),
    undo: () => api.undo(),
    addImages: (name, images, options) => api.addImages(name, images, options),
    setTargetValue: (value) => api.setTargetValue(value),
    settings: () => api.settings(),
    setSettings: (change) => api.setSettings(change),
    train: (change) => api.train(change),
    stopTraining: () => api.stopTraining(),
    evaluation: () => api.evaluation(),
    // Coordinates, ids and class names only: no images, so no consent is asked.
    embeddingMap: (options) => api.embeddingMap(options),
    predict: (image) => api.predict(image),
    embed: (image) => api.embed(image),
    // The host's own images: nothing of the visitor's leaves, so no consent is asked.
    evaluate: (items) => api.evaluate(items),
    startCamera: () => api.startCamera(),
    stopCamera: () => api.stopCamera(),
    startLive: () => api.startLive(),
    stopLive: () => api.stopLive(),
    whenReady: () => api.ready,
    samples: async () => {
      await consent("read your example images and their embeddings");
      return api.samples();
    },
    // A k-nearest-neighbour model is its samples' embeddings: asked for like any sample read.
    downloadModel: async () => {
      if (context.store.get().headRecord?.model.kind === "knn")
        await consent("download the trained model, which holds your examples' embeddings");
      return api.downloadModel();
    },
    exportProject: async () => {
      await consent("download your project file (your example images and the trained model)");
      return api.exportProject();
    },
    // The visitor's model leaves for the cloud only with their consent when a host asks; with the
    // example images (or a k-nearest-neighbour model's embeddings) the question says so.
    publish: async (options = {}) => {
      const knn = context.store.get().headRecord?.model.kind === "knn";
      const what =
        options?.includeSamples === true
          ? "send your trained model and your example images to the cloud"
          : knn
            ? "send your trained model, which holds your examples' embeddings, to the cloud"
            : "send your trained model to the cloud";
      await consent(what);
      return api.publish(options);
    },
    openPublished: (linkOrId) => api.openPublished(linkOrId),
    closePublished: () => api.closePublished(),
    published: () => api.published(),
    deletePublished: async (id) => {
      await consent("delete a copy of your model from the cloud");
      return api.deletePublished(id);
    },
    cloudModels: () => api.cloudModels(),
    baseModelTopK: (image, k) => api.baseModelTopK(image, k),
    importProject: async (blob) => {
      await consent("replace your classes and examples with a project file");
      return api.importProject(blob);
    },
  };
  const methods = { hello: () => ({ value: { version: API_VERSION, title: context.project.title } }) };
  for (const [name, method] of Object.entries(plain))
    methods[name] = (...args) => answer(() => method(...args));
  return methods;
}

// Keeps messages of other origins away from penpal altogether; `onAllowed(origin, data)` sees
// the parent's messages from an allowed origin. (For a host opened from file://, origin "null",
// penpal must answer with targetOrigin "*", which it only does when told to allow "*": this gate
// is then what still limits the page to the allowed origins.)
function gateOrigins(allowed, onAllowed) {
  window.addEventListener(
    "message",
    (event) => {
      if (event.source !== window.parent) return; // penpal ignores these itself
      if (allowed.includes(event.origin)) onAllowed(event.origin, event.data);
      else event.stopImmediatePropagation();
    },
    { capture: true },
  );
}

function followHeight(remote) {
  let last = 0;
  const send = () => {
    const height = Math.ceil(document.documentElement.scrollHeight);
    if (height !== last) {
      last = height;
      remote.resize(height).catch(() => {});
    }
  };
  new ResizeObserver(send).observe(document.body);
  send();
}

function startConnection(api, context, origin) {
  const messenger = new WindowMessenger({
    remoteWindow: window.parent,
    allowedOrigins: [origin === "null" ? "*" : origin],
  });
  const connection = connect({ messenger, methods: hostMethods(api, context, () => origin) });
  connection.promise.then((remote) => {
    for (const name of EVENTS) api.on(name, (payload) => remote.emit(name, payload).catch(() => {}));
    followHeight(remote);
  });
}

// The page says nothing to a parent it does not know to be allowed: where the browser names the
// parent's origin (location.ancestorOrigins) it starts the handshake at once; otherwise it waits
// for an allowed parent's first handshake message (embed.js starts again once the iframe has
// loaded, in case that message came before this page listened).
export function connectHost(api, context) {
  const allowed = context.project.embed?.allowed_origins ?? [];
  if (window.parent === window || !allowed.length) return;
  let origin = null;
  const start = (from) => {
    if (origin) return;
    origin = from;
    startConnection(api, context, origin);
  };
  gateOrigins(allowed, (from, data) => {
    if (data?.namespace === "penpal" && data?.type === "SYN") start(from);
  });
  const parent = location.ancestorOrigins?.[0];
  if (allowed.includes(parent)) start(parent);
}
