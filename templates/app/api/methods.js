// The one list of window.teachkit's methods (docs/embedding.md, "The JavaScript API"). page_api.js,
// api/embed_child.js and embed.js are built from it, and tests/js/api_table.test.mjs holds it to
// the page's own object, to the manual's table and to embed.d.ts; a new method is one row here.
//
// A row: `name`; `params`, the arguments' names (what a host's call forwards); `action`, the
// action a plain method dispatches (page_api.js writes the others); `byClass`, whose first argument
// is a class's name that the page turns into its id; `images`, which argument carries images that
// a host page sends as ImageBitmaps ("first", "second", or a test set's `image`s: "items" in the
// first argument, "secondItems" in the second);
// `consent`, what a host page asks the visitor before the call, as `(state, args) => what | null`
// (the sentence ends "The visitor did not allow <origin> to <what>."): a call that would hand the
// visitor's images, embeddings or model to the host, or change what they keep.

const isKnn = (state) => state.headRecord?.model.kind === "knn";

export const METHODS = [
  { name: "status", params: [] },
  { name: "classes", params: [] },
  { name: "addClass", params: ["name"] },
  { name: "renameClass", params: ["name", "newName"], action: "renameClass", byClass: true },
  { name: "deleteClass", params: ["name"], action: "deleteClass", byClass: true },
  { name: "clearClass", params: ["name"], action: "clearClass", byClass: true },
  { name: "deleteSample", params: ["id"], action: "deleteSample" },
  { name: "undo", params: [], action: "undo" },
  {
    name: "addImages",
    params: ["className", "images", "options"],
    action: "addImages",
    byClass: true,
    images: "second",
  },
  { name: "setTargetValue", params: ["value"], action: "setTargetValue" },
  { name: "samples", params: [], consent: () => "read your example images and their embeddings" },
  { name: "settings", params: [] },
  { name: "setSettings", params: ["change"] },
  { name: "train", params: ["change"] },
  { name: "stopTraining", params: [], action: "stopTraining" },
  { name: "evaluation", params: [] },
  { name: "predict", params: ["image"], action: "predict", images: "first" },
  { name: "embed", params: ["image"], action: "embed", images: "first" },
  // The host's own images: nothing of the visitor's leaves, so no consent is asked.
  { name: "evaluate", params: ["items"], action: "evaluate", images: "items" },
  { name: "startCamera", params: [], action: "startCamera" },
  { name: "stopCamera", params: [], action: "stopCamera" },
  { name: "startLive", params: [], action: "startLive" },
  { name: "stopLive", params: [], action: "stopLive" },
  {
    name: "exportProject",
    params: [],
    consent: () => "download your project file (your example images and the trained model)",
  },
  // A k-nearest-neighbour model is its samples' embeddings: asked for like any sample read.
  {
    name: "downloadModel",
    params: [],
    consent: (state) =>
      isKnn(state) ? "download the trained model, which holds your examples' embeddings" : null,
  },
  {
    name: "importProject",
    params: ["blob"],
    action: "importProject",
    consent: () => "replace your classes and examples with a project file",
  },
  // The visitor's model leaves for the cloud only with their consent; with the example images (or
  // a k-nearest-neighbour model's embeddings) the question says so.
  {
    name: "publish",
    params: ["options"],
    consent: (state, [options]) =>
      options?.includeSamples === true
        ? "send your trained model and your example images to the cloud"
        : isKnn(state)
          ? "send your trained model, which holds your examples' embeddings, to the cloud"
          : "send your trained model to the cloud",
  },
  // A hand-in sends the model, the name and the training numbers to the class's teacher; never
  // images, but a k-nearest-neighbour model is its examples' embeddings.
  {
    name: "handIn",
    params: ["options"],
    action: "handIn",
    consent: (state) =>
      isKnn(state)
        ? "hand in your trained model, which holds your examples' embeddings, to a class in the cloud"
        : "hand in your trained model to a class in the cloud",
  },
  { name: "openPublished", params: ["linkOrId"], action: "openPublished" },
  { name: "closePublished", params: [], action: "closePublished" },
  { name: "published", params: [] },
  {
    name: "deletePublished",
    params: ["id"],
    action: "deletePublished",
    consent: () => "delete a copy of your model from the cloud",
  },
  { name: "cloudModels", params: [], action: "listPublished" },
  { name: "baseModelTopK", params: ["image", "k"], images: "first" },
  // Coordinates, ids and class names only: no images, so no consent is asked.
  { name: "embeddingMap", params: ["options"] },
  // Where in the host's own image the evidence for a class is: nothing of the visitor's leaves.
  { name: "explain", params: ["image", "options"], images: "first" },
  // The teacher's view of a class (features/teacher.js); only with [cloud] url. The test images are
  // the caller's own and never leave the page: no consent is asked.
  { name: "classSubmissions", params: ["auth"], action: "classSubmissions" },
  {
    name: "compareSubmissions",
    params: ["auth", "images", "options"],
    action: "compareSubmissions",
    images: "secondItems",
  },
];

// Members of window.teachkit that are no method a host calls by name: embed.js gives each its own
// way (`ready` a promise, `on` local handlers fed by the page's events).
export const MEMBERS = ["version", "ready", "on"];
