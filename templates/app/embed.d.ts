// Types of embed.js for host pages' editors (docs/embedding.md, "The JavaScript API"): copy this
// file next to your page with embed.js, or point `/// <reference path="embed.d.ts" />` at it.
// Every method of the client is one row of templates/app/api/methods.js; a test keeps them agreed.

/** What a call can send as an image: the client turns elements into ImageBitmaps. */
export type TeachkitImage =
  | Blob
  | File
  | ImageBitmap
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas;

/** The stable `code` of a failure (the message is the sentence the page shows). */
export type TeachkitErrorCode =
  | "not_ready"
  | "busy"
  | "no_samples"
  | "not_trained"
  | "unknown_class"
  | "bad_name"
  | "bad_image"
  | "bad_setting"
  | "bad_project_file"
  | "bad_argument"
  | "camera"
  | "storage"
  | "forbidden"
  | "no_connection"
  | "cloud_unreachable"
  | "cloud_refused"
  | "other_base_model"
  | "not_supported"
  | "failed"
  | "unknown_class_code"
  | "class_closed"
  | "name_taken"
  | "no_token"
  | "wrong_token";

/** How every call rejects. */
export interface TeachkitError extends Error {
  name: "TeachkitError";
  code: TeachkitErrorCode;
}

export type TeachkitEvent = "ready" | "samples" | "epoch" | "trained" | "prediction" | "error" | "notice";

export interface Status {
  state: string;
  task: "classification" | "regression";
  targetValue: number | null;
  backend: {
    name: string;
    build: string;
    threads: number;
    workers: number | null;
    runtime: { name: "litert" | "tfjs"; build: string } | null;
    skipped: { name: string; build: string; label: string; reason: string; cosine?: number }[];
    selfCheck: { cosine: number; floor: number } | null;
  } | null;
  training: { state: string; epoch: number; epochs: number };
  trained: boolean;
  camera: boolean;
  recording: string | null;
  live: boolean;
  predictions: number;
  undo: { text: string; expiresAt: number } | null;
  opened: { id: string; title: string; labels: string[] } | null;
}

export interface Sample {
  id: string;
  className: string;
  embedding: Float32Array;
  image: Blob;
  heldOut: boolean;
  value?: number;
}

export interface Settings {
  head: Record<string, unknown>;
  training: Record<string, unknown>;
}

export interface Neighbor {
  className: string;
  similarity: number;
  value?: number;
}

export interface Prediction {
  label: string;
  confidence?: number;
  confidences?: Record<string, number>;
  value?: number;
  sure?: boolean;
  neighbors: Neighbor[];
  source: string;
  milliseconds: number;
}

export interface Published {
  id: string;
  title: string;
  url: string;
  link: string;
  created: string;
  withSamples: boolean;
}

export interface CloudModel {
  id: string;
  title: string;
  note: string;
  created: string;
  labels: string[];
  url: string;
}

export interface TopKEntry {
  synset: string;
  name: string;
  definition: string;
  path: string[];
  probability: number;
}

/** Where the evidence for `className` is: `values` row-major from the top-left of the centre crop. */
export interface Explanation {
  /** null on a regression page (the evidence is for a larger number). */
  className: string | null;
  method: "cam" | "occlusion";
  rows: number;
  cols: number;
  /** rows × cols numbers, larger = more evidence; null for a cell an occlusion test did not reach. */
  values: (number | null)[];
}

export interface EmbeddingMap {
  points: { x: number; y: number; sampleId: string; className: string; heldOut: boolean }[];
  method: "pca" | "umap";
  current: { x: number; y: number } | null;
}

/** The embedded page's window.teachkit, over postMessage: every method resolves or rejects. */
export interface TeachkitClient {
  readonly version: string;
  readonly title: string;
  /** Resolves when samples can be added; rejects (`not_ready`) if the model cannot load. */
  readonly ready: Promise<void>;
  status(): Promise<Status>;
  classes(): Promise<{ name: string; count: number }[]>;
  addClass(name?: string): Promise<string>;
  renameClass(name: string, newName: string): Promise<unknown>;
  deleteClass(name: string): Promise<unknown>;
  clearClass(name: string): Promise<unknown>;
  deleteSample(id: string): Promise<unknown>;
  undo(): Promise<unknown>;
  addImages(
    className: string,
    images: Iterable<TeachkitImage> | ArrayLike<TeachkitImage>,
    options?: { value?: number },
  ): Promise<{ added: number; problems: string[] }>;
  setTargetValue(value: number): Promise<unknown>;
  /** Asks the visitor first. */
  samples(): Promise<Sample[]>;
  settings(): Promise<Settings>;
  setSettings(change: Partial<Settings>): Promise<Settings>;
  train(change?: Partial<Settings>): Promise<{ history: Record<string, number>[]; evaluation: unknown }>;
  stopTraining(): Promise<unknown>;
  evaluation(): Promise<unknown>;
  predict(image: TeachkitImage): Promise<Prediction>;
  embed(image: TeachkitImage): Promise<Float32Array>;
  evaluate(items: { image: TeachkitImage; className: string; name?: string }[]): Promise<unknown>;
  startCamera(): Promise<unknown>;
  stopCamera(): Promise<unknown>;
  startLive(): Promise<unknown>;
  stopLive(): Promise<unknown>;
  /** Asks the visitor first. */
  exportProject(): Promise<Blob>;
  /** Asks the visitor first when the model is a k-nearest-neighbour one (it holds embeddings). */
  downloadModel(): Promise<Blob>;
  /** Asks the visitor first. */
  importProject(blob: Blob): Promise<unknown>;
  /** Asks the visitor first; only on a page whose project has `[cloud] url`. */
  publish(options?: { title?: string; note?: string; includeSamples?: boolean }): Promise<{
    id: string;
    url: string;
    link: string;
  }>;
  /** Asks the visitor first; only on a page whose project has `[cloud] url`. */
  handIn(options: { code: string; name: string }): Promise<{ id: string }>;
  openPublished(linkOrId: string): Promise<{ id: string; title: string; labels: string[] }>;
  closePublished(): Promise<unknown>;
  published(): Promise<Published[]>;
  /** Asks the visitor first. */
  deletePublished(id: string): Promise<unknown>;
  cloudModels(): Promise<CloudModel[] | null>;
  baseModelTopK(image: TeachkitImage, k?: number): Promise<TopKEntry[]>;
  embeddingMap(options?: { method?: "pca" | "umap" }): Promise<EmbeddingMap>;
  explain(
    image: TeachkitImage,
    options?: { className?: string | null; method?: "cam" | "occlusion" },
  ): Promise<Explanation>;
  /** Only on a page whose project has `[cloud] url`: the receiver's answer for the class. */
  classSubmissions(auth: { code: string; token: string; remember?: boolean }): Promise<ClassListing>;
  /** Every comparable submission tested on the caller's own images, which never leave the page. */
  compareSubmissions(
    auth: { code: string; token: string },
    images: { image: TeachkitImage; className: string; name?: string }[],
    options?: { ensemble?: boolean; ids?: string[] },
  ): Promise<ClassComparison>;
  /** Returns the function that unsubscribes. */
  on(event: TeachkitEvent, handler: (payload: any) => void): () => void;
  /** Ends the connection. */
  close(): void;
}

/** A class on the receiver, as its teacher sees it. */
export interface ClassListing {
  code: string;
  title: string;
  closed: boolean;
  created: string;
  submissions: {
    id: string;
    name: string;
    created: string;
    labels: string[];
    url: string;
    metrics: Record<string, unknown>;
  }[];
}

/** How a model (or the ensemble) did on the teacher's test images; `interval` is Wilson's 95 %. */
export interface ComparedModel {
  accuracy: number | null;
  interval: [number | null, number | null];
  correct: number;
  count: number;
  perClass: Record<string, { recall: number | null; correct: number; count: number }>;
  confusion: { labels: string[]; matrix: number[][] };
  /** The class answered for each test image, in the order given. */
  predictions: string[];
}

export interface ClassComparison {
  items: (ComparedModel & { id: string; name: string; comparable: true })[];
  notComparable: { id: string; name: string; reason: string }[];
  /** The mean of its members' probabilities per image, by class name; null with `ensemble: false`. */
  ensemble: (ComparedModel & { ids: string[] }) | null;
  /** McNemar's exact test for every pair: `onlyA` images only `a` got right, `onlyB` the other way. */
  comparisons: { a: string; b: string; onlyA: number; onlyB: number; p: number }[];
  spread: { median: number | null; min: number | null; max: number | null; count: number };
}

/** Resolves once the page in `iframe` answers; rejects with code `no_connection` after `timeout` ms. */
export function connect(
  iframe: HTMLIFrameElement,
  options?: { timeout?: number; resize?: boolean },
): Promise<TeachkitClient>;

/** A "Download model" zip (a URL, a Blob or File, or an unzipped folder's URL), run in this page. */
export interface LoadedModel {
  labels: string[];
  metadata: Record<string, unknown>;
  predict(
    image: TeachkitImage,
  ): Promise<
    | { label: string; confidence: number; confidences: Record<string, number> }
    | { value: number; label: string; unit: string }
  >;
  classify(image: TeachkitImage): Promise<{ label: string; confidence: number }[]>;
  dispose(): void;
}

export function load(source: string | URL | Blob, options?: Record<string, unknown>): Promise<LoadedModel>;
