// The app layer: owns the state and every step (load → collect → train → predict → persist).
// UI events call these actions; each change produces a new state that the UI renders.
import { chooseBackend, resolveWasmPaths } from "./backend.js";
import { Cropper } from "./crop.js";
import { Dataset, nearest, newId } from "./dataset.js";
import { settleEmbedder, startWorkerPool } from "./embedder.js";
import { createHead, evaluate, restoreHead } from "./head.js";
import { ProjectFileError, exportProject, importProject } from "./io.js";
import { Store } from "./store.js";

const THUMB_SIZE = 64;
const SAVE_BATCH = 16;
// Recorded frames waiting for their embedding; beyond this a slow device records fewer frames
// rather than piling up memory.
const RECORD_BACKLOG = 8;

// Synchronous on purpose: while the camera runs, Chromium may hold back the callback of the async
// canvas.toBlob for up to seconds (measured: 23 of 202 over 100 ms, the longest 1.7 s), which
// stalled hold-to-record; encoding a 224-pixel JPEG here takes a few milliseconds.
function canvasJpeg(canvas, quality) {
  const encoded = atob(canvas.toDataURL("image/jpeg", quality).split(",", 2)[1]);
  const bytes = new Uint8Array(encoded.length);
  for (let i = 0; i < encoded.length; i += 1) bytes[i] = encoded.charCodeAt(i);
  return new Blob([bytes], { type: "image/jpeg" });
}

function nextVideoFrame(video) {
  if (video.requestVideoFrameCallback)
    return new Promise((resolve) => video.requestVideoFrameCallback(resolve));
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

// Why a file cannot become a sample, or null if it may be tried.
function precheck(file) {
  if (file.size === 0) return `"${file.name}" is empty (0 bytes).`;
  if (file.type === "image/svg+xml" || /\.svg$/i.test(file.name)) {
    return `"${file.name}" is an SVG drawing; use a photo (JPEG, PNG, WebP or GIF).`;
  }
  return null;
}

async function decode(file) {
  try {
    return await createImageBitmap(file);
  } catch {
    return null;
  }
}

const isWhole = (value, low, high) => Number.isInteger(value) && value >= low && value <= high;
const SETTING_CHECKS = {
  type: (v) => (["dense", "knn"].includes(v) ? null : "must be dense or knn."),
  hidden_units: (v) =>
    v.every((n) => isWhole(n, 1, 4096)) ? null : "must be whole numbers from 1 to 4096, like 100 or 128, 64.",
  activation: (v) =>
    ["relu", "tanh", "sigmoid", "elu", "selu", "swish"].includes(v) ? null : "is not offered.",
  dropout: (v) => (v >= 0 && v < 1 ? null : "must be at least 0 and below 1."),
  k: (v) => (isWhole(v, 1, 100) ? null : "must be a whole number from 1 to 100."),
  epochs: (v) => (isWhole(v, 1, 1000) ? null : "must be a whole number from 1 to 1000."),
  batch_size: (v) => (isWhole(v, 1, 1024) ? null : "must be a whole number from 1 to 1024."),
  learning_rate: (v) => (v > 0 && v <= 1 ? null : "must be more than 0 and at most 1."),
  validation_fraction: (v) => (v >= 0 && v <= 0.5 ? null : "must be from 0 to 0.5."),
};
const SETTING_NAMES = {
  type: "The classifier",
  hidden_units: "Hidden layer sizes",
  activation: "The activation",
  dropout: "Dropout",
  k: "Neighbours (k)",
  epochs: "Epochs",
  batch_size: "Batch size",
  learning_rate: "Learning rate",
  validation_fraction: "The share held back for checking",
};

export class App {
  // `model` is the model's URL (hosted) or its artifacts (single file); `workerUrl` the script of
  // the embedding workers, `workers` how many to run (0: embed on the page).
  constructor(
    project,
    {
      requestedBackend = null,
      wasmUrls = {},
      wasmBinaries = {},
      model,
      workerUrl = null,
      workers = 2,
      storeName,
    } = {},
  ) {
    this.project = project;
    this.options = { requestedBackend, wasmUrls, wasmBinaries, model, workerUrl, workers, storeName };
    this.listeners = [];
    this.cropper = new Cropper(project.model.input_size);
    this.embedder = null;
    this.store = null;
    this.head = null;
    this.headRecord = null; // what is stored and exported for the trained head
    this.video = null;
    this.stopTrainingRequested = false;
    this.thumbCanvas = document.createElement("canvas");
    this.thumbCanvas.width = THUMB_SIZE;
    this.thumbCanvas.height = THUMB_SIZE;
    this.state = {
      status: "loading",
      backend: null,
      notice: { text: "Loading the model…", kind: "info", sequence: 0 },
      dataset: new Dataset(project.classes.map((name) => ({ id: newId(), name }))),
      busy: null, // text while samples are being added or recomputed
      camera: { stream: null, devices: [], deviceId: null },
      recordingClassId: null,
      settings: { head: { ...project.head }, training: { ...project.training } },
      training: { state: "idle", epoch: 0, epochs: 0, history: [], evaluation: null, stale: false },
      prediction: null,
      predictionCount: 0,
      live: false,
      liveFps: null,
    };
  }

  subscribe(listener) {
    this.listeners.push(listener);
    listener(this.state);
  }

  update(change) {
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) listener(this.state);
  }

  notify(text, kind = "info") {
    this.update({ notice: { text, kind, sequence: this.state.notice.sequence + 1 } });
  }

  get trained() {
    return this.head !== null;
  }

  // ---- start -------------------------------------------------------------------------------

  async start() {
    const { requestedBackend, workers, workerUrl, model } = this.options;
    const inputSize = this.project.model.input_size;
    const wasmPaths = resolveWasmPaths(this.options.wasmUrls);
    // The workers load while the page picks its own backend; they are only used if that is WASM.
    const mayUseWorkers = workers > 0 && workerUrl && [null, "wasm"].includes(requestedBackend);
    const pool = mayUseWorkers
      ? startWorkerPool({
          workers,
          workerUrl,
          modelSource: model,
          wasmPaths,
          wasmBinaries: this.options.wasmBinaries,
          inputSize,
          onChange: (embedder) => this.showEmbedder(embedder),
        }).catch((error) => error)
      : null;
    try {
      const backend = await chooseBackend({ requested: requestedBackend, wasmPaths });
      this.update({ backend });
      this.notify(`Loading the model on ${backend.text}…`);
      this.embedder = await settleEmbedder(backend.name, pool, model, inputSize);
      this.showEmbedder(this.embedder);
    } catch (error) {
      this.update({ status: "error" });
      this.notify(`The model could not be loaded: ${error.message}`, "error");
      return;
    }
    await this.restore();
    this.update({ status: "ready" });
    // For benchmarks and host pages: when samples can be added, and when a prediction can be made.
    performance.mark("teachkit:ready");
    if (this.trained) performance.mark("teachkit:prediction-ready");
    if (this.state.notice.kind !== "error") this.notify("Ready. Add examples to each class, then train.");
  }

  showEmbedder(embedder) {
    if (!this.state.backend) return; // shown once the page's own backend is known
    this.update({ backend: { ...this.state.backend, where: embedder.text, workers: embedder.workerCount } });
  }

  async restore() {
    try {
      this.store = await Store.open(this.options.storeName);
    } catch (error) {
      this.notify(`${error.message} Samples will be lost when the page closes.`, "error");
      return;
    }
    try {
      const saved = await this.store.load();
      if (!saved.classes.length) {
        await this.store.replaceAll({
          classes: this.state.dataset.classes,
          samples: [],
          head: null,
          modelKey: this.project.model.fingerprint,
        });
        return;
      }
      let samples = saved.samples;
      if (saved.modelKey !== this.project.model.fingerprint) {
        samples = await this.reembed(samples);
        await this.store.replaceAll({
          classes: saved.classes,
          samples,
          head: null,
          modelKey: this.project.model.fingerprint,
        });
      }
      const dataset = new Dataset(saved.classes, samples);
      this.update({ dataset });
      if (saved.head && saved.modelKey === this.project.model.fingerprint)
        this.restoreTrainedHead(saved.head, dataset);
    } catch (error) {
      this.notify(`Saved samples could not be restored: ${error.message}`, "error");
    }
  }

  // The embedding of an image, video frame or canvas: its centre crop through the base model.
  async embed(source) {
    return this.embedder.embed(this.cropper.crop(source)); // crops before the first await
  }

  // Samples made with another base model get their embeddings again, from their stored crops.
  async reembed(samples) {
    this.update({ busy: `Updating ${samples.length} samples for this page's model…` });
    const updated = [];
    try {
      // A batch at a time, so every worker has work but decoded crops never pile up.
      for (let start = 0; start < samples.length; start += SAVE_BATCH) {
        const batch = samples.slice(start, start + SAVE_BATCH);
        const embeddings = await Promise.all(
          batch.map(async (sample) => {
            const bitmap = await createImageBitmap(sample.image);
            try {
              return await this.embed(bitmap);
            } finally {
              bitmap.close();
            }
          }),
        );
        batch.forEach((sample, index) => updated.push({ ...sample, embedding: embeddings[index] }));
      }
    } finally {
      this.update({ busy: null });
    }
    return updated;
  }

  restoreTrainedHead(saved, dataset) {
    if (!saved.classIds.every((id) => dataset.classById(id))) return;
    this.head = restoreHead(saved.model, this.project.model.embedding_size, dataset.samples);
    this.headRecord = saved;
    this.update({
      training: {
        state: "done",
        epoch: saved.history.length,
        epochs: saved.history.length,
        history: saved.history,
        evaluation: saved.evaluation,
        stale: false,
      },
    });
  }

  // ---- classes -----------------------------------------------------------------------------

  async changeDataset(dataset, persist) {
    const previous = this.state.dataset;
    this.update({ dataset });
    if (!this.store) return true;
    try {
      await persist(this.store);
      return true;
    } catch (error) {
      this.update({ dataset: previous });
      this.notify(error.message, "error");
      return false;
    }
  }

  invalidateHead(reason) {
    if (!this.head) return;
    this.stopLive();
    this.head.dispose();
    this.head = null;
    this.headRecord = null;
    this.store?.saveHead(null).catch(() => {});
    this.update({
      prediction: null,
      training: { ...this.state.training, state: "idle", stale: true },
    });
    this.notify(reason);
  }

  guardTraining() {
    if (this.state.training.state === "training") {
      this.notify("Wait for training to finish, or stop it, before changing the classes.");
      return true;
    }
    return false;
  }

  async addClass() {
    if (this.guardTraining()) return;
    const { dataset } = this.state;
    let number = dataset.classes.length + 1;
    while (dataset.hasName(`Class ${number}`)) number += 1;
    const next = dataset.withClass({ id: newId(), name: `Class ${number}` });
    if (await this.changeDataset(next, (store) => store.saveClasses(next.classes))) {
      this.invalidateHead("A class was added: train again to include it.");
    }
  }

  async renameClass(id, rawName) {
    const name = rawName.trim();
    const { dataset } = this.state;
    if (!name) return this.notify("A class needs a name.", "error");
    if (name.length > 40) return this.notify("Class names can have at most 40 characters.", "error");
    if (dataset.hasName(name, id)) return this.notify(`There is already a class named "${name}".`, "error");
    const next = dataset.withRenamed(id, name);
    await this.changeDataset(next, (store) => store.saveClasses(next.classes));
  }

  async deleteClass(id) {
    if (this.guardTraining()) return;
    const { dataset } = this.state;
    if (dataset.classes.length <= 2) return this.notify("Keep at least two classes.", "error");
    const removed = dataset.samplesOf(id).map((sample) => sample.id);
    const next = dataset.withoutClass(id);
    const saved = await this.changeDataset(next, async (store) => {
      await store.saveClasses(next.classes);
      await store.deleteSamples(removed);
    });
    if (saved) this.invalidateHead("A class was deleted: train again.");
  }

  async clearClass(id) {
    if (this.guardTraining()) return;
    const removed = this.state.dataset.samplesOf(id).map((sample) => sample.id);
    await this.changeDataset(this.state.dataset.withoutSamplesOf(id), (store) =>
      store.deleteSamples(removed),
    );
  }

  async deleteSample(id) {
    if (this.guardTraining()) return;
    await this.changeDataset(this.state.dataset.withoutSample(id), (store) => store.deleteSamples([id]));
  }

  // ---- samples -----------------------------------------------------------------------------

  // Keeps only the embedding and two small JPEGs of a decoded image or video frame. The frame is
  // read at once (the caller may close or advance it); the embedding arrives later.
  async makeSample(classId, source) {
    const pixels = this.cropper.crop(source);
    const crop = this.cropper.canvas;
    this.thumbCanvas.getContext("2d").drawImage(crop, 0, 0, THUMB_SIZE, THUMB_SIZE);
    const image = canvasJpeg(crop, 0.9);
    const thumb = canvasJpeg(this.thumbCanvas, 0.8);
    const added = Date.now() + Math.random();
    const embedding = await this.embedder.embed(pixels);
    return { id: newId(), classId, embedding, image, thumb, added };
  }

  async saveSamples(samples) {
    if (!samples.length) return true;
    const added = this.state.dataset.withSamples(samples);
    return this.changeDataset(added, (store) => store.addSamples(samples));
  }

  // Decodes a file and starts its sample. Resolves once the file is read, to {result}: a promise
  // of the sample, or of a sentence saying why there is none (wrapped, so awaiting this does not
  // also wait for the embedding).
  async startSample(classId, file) {
    const problem = precheck(file);
    const bitmap = problem ? null : await decode(file);
    if (!bitmap) {
      return { result: problem ?? `"${file.name}" is not an image this browser can read, or it is damaged.` };
    }
    try {
      const sample = this.makeSample(classId, bitmap); // reads the bitmap before returning
      return { result: sample.catch((error) => `"${file.name}" could not be added: ${error.message}`) };
    } finally {
      bitmap.close();
    }
  }

  async addFiles(classId, files) {
    if (this.guardTraining() || !this.embedder) return;
    const problems = [];
    let added = 0;
    const list = Array.from(files);
    // A batch at a time: the workers embed while the next files decode, and one batch is saved at once.
    for (let start = 0; start < list.length; start += SAVE_BATCH) {
      const started = [];
      for (const [offset, file] of list.slice(start, start + SAVE_BATCH).entries()) {
        this.update({ busy: `Adding image ${start + offset + 1} of ${list.length}…` });
        started.push(await this.startSample(classId, file));
      }
      const results = await Promise.all(started.map(({ result }) => result));
      problems.push(...results.filter((result) => typeof result === "string"));
      const samples = results.filter((result) => typeof result !== "string");
      if (!(await this.saveSamples(samples))) break;
      added += samples.length;
    }
    this.update({ busy: null });
    if (problems.length) {
      this.notify(`Added ${added} of ${list.length} files. ${problems.join(" ")}`, "error");
    } else if (this.state.notice.kind !== "error" || added) {
      this.notify(`Added ${added} image${added === 1 ? "" : "s"}.`);
    }
  }

  // ---- camera ------------------------------------------------------------------------------

  setVideo(video) {
    this.video = video;
  }

  async startCamera(deviceId = null) {
    this.releaseStream();
    try {
      const video = deviceId ? { deviceId: { exact: deviceId } } : true;
      const stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
      const devices = (await navigator.mediaDevices.enumerateDevices())
        .filter((device) => device.kind === "videoinput")
        .map((device, index) => ({
          deviceId: device.deviceId,
          label: device.label || `Camera ${index + 1}`,
        }));
      const active = stream.getVideoTracks()[0]?.getSettings().deviceId ?? deviceId;
      this.update({ camera: { stream, devices, deviceId: active } });
    } catch (error) {
      this.notify(`The camera could not be started: ${error.message}`, "error");
    }
  }

  stopCamera() {
    this.stopRecording();
    this.stopLive();
    this.releaseStream();
  }

  releaseStream() {
    if (!this.state.camera.stream) return;
    this.state.camera.stream.getTracks().forEach((track) => track.stop());
    this.update({ camera: { ...this.state.camera, stream: null } });
  }

  async videoReady() {
    if (!this.state.camera.stream) await this.startCamera(this.state.camera.deviceId);
    const video = this.video;
    while (this.state.camera.stream && video.readyState < 2) await nextVideoFrame(video);
    return Boolean(this.state.camera.stream);
  }

  // Hold-to-record: adds frames at the project's rate until stopRecording().
  async startRecording(classId) {
    if (this.guardTraining() || this.state.recordingClassId || !this.embedder) return;
    this.update({ recordingClassId: classId });
    if (!(await this.videoReady())) return this.update({ recordingClassId: null });
    const interval = 1000 / this.project.capture.fps;
    const saveEvery = Math.max(1, Math.round(this.project.capture.fps / 2));
    const inFlight = new Set(); // samples whose embedding is still being computed
    let done = [];
    let total = 0;
    let failure = null;
    let saveFailed = false;
    // Frames are taken on time while the workers embed earlier ones.
    const take = () => {
      const sample = this.makeSample(classId, this.video)
        .then((made) => done.push(made))
        .catch((error) => (failure ??= error))
        .finally(() => inFlight.delete(sample));
      inFlight.add(sample);
    };
    const saveDone = async () => {
      const ready = done;
      done = [];
      if (!(await this.saveSamples(ready))) saveFailed = true;
      else total += ready.length;
    };
    while (this.state.recordingClassId === classId && !failure && !saveFailed) {
      const started = performance.now();
      if (this.embedder.backlog < RECORD_BACKLOG) take();
      if (done.length >= saveEvery) await saveDone();
      await sleep(Math.max(0, interval - (performance.now() - started)));
    }
    await Promise.all(inFlight);
    if (done.length && !saveFailed) await saveDone();
    this.update({ recordingClassId: null });
    const recorded = `Recorded ${total} frame${total === 1 ? "" : "s"}.`;
    if (failure) this.notify(`${recorded} Recording stopped: ${failure.message}`, "error");
    else this.notify(recorded);
  }

  stopRecording() {
    if (this.state.recordingClassId) this.update({ recordingClassId: null });
  }

  // ---- training ----------------------------------------------------------------------------

  changeSettings(section, values) {
    for (const [key, value] of Object.entries(values)) {
      const problem = SETTING_CHECKS[key]?.(value);
      if (problem) {
        this.update({ settings: { ...this.state.settings } }); // re-render the previous value
        return this.notify(`${SETTING_NAMES[key]} ${problem}`, "error");
      }
    }
    const settings = { ...this.state.settings, [section]: { ...this.state.settings[section], ...values } };
    this.update({ settings });
  }

  readinessProblem() {
    const { dataset } = this.state;
    const counts = dataset.counts();
    const empty = dataset.classes.filter((item) => counts[item.id] === 0).map((item) => `"${item.name}"`);
    if (empty.length) {
      return `Add examples to ${empty.join(", ")} first: every class needs at least one sample to train.`;
    }
    return null;
  }

  async train() {
    if (!this.embedder || this.state.training.state === "training") return;
    const problem = this.readinessProblem();
    if (problem) {
      this.update({ training: { ...this.state.training, state: "error" } });
      return this.notify(problem, "error");
    }
    const { dataset, settings } = this.state;
    const { training, validation } = dataset.split(
      settings.training.validation_fraction,
      settings.training.seed,
    );
    const classIds = dataset.classes.map((item) => item.id);
    const head = createHead(settings.head, settings.training, this.project.model.embedding_size, classIds);
    const epochs = settings.head.type === "knn" ? 1 : settings.training.epochs;
    const history = [];
    this.stopTrainingRequested = false;
    this.stopLive();
    this.update({
      training: { state: "training", epoch: 0, epochs, history, evaluation: null, stale: false },
    });
    this.notify(`Training on ${training.length} samples, checking on ${validation.length}…`);
    try {
      await head.train(training, validation, settings.training, {
        onEpoch: (entry) => {
          history.push(entry);
          this.update({ training: { ...this.state.training, epoch: entry.epoch, history: [...history] } });
        },
        shouldStop: () => this.stopTrainingRequested,
      });
    } catch (error) {
      head.dispose();
      this.update({ training: { ...this.state.training, state: "error" } });
      return this.notify(`Training failed: ${error.message}`, "error");
    }
    const evaluation = {
      ...evaluate(head, validation.length ? validation : training),
      onValidation: validation.length > 0,
    };
    this.head?.dispose();
    this.head = head;
    this.headRecord = { model: head.toJSON(), classIds, history, evaluation };
    this.update({ training: { ...this.state.training, state: "done", evaluation } });
    const stopped = this.stopTrainingRequested ? " (stopped early)" : "";
    this.notify(`Training done${stopped}. Try it with the camera or an image.`);
    try {
      await this.store?.saveHead(this.headRecord);
    } catch (error) {
      this.notify(error.message, "error");
    }
  }

  stopTraining() {
    this.stopTrainingRequested = true;
  }

  // ---- project file ----------------------------------------------------------------------

  // Returns {blob, name} to download, or null after telling the visitor why not.
  async exportProject() {
    let blob;
    try {
      blob = await exportProject({
        title: this.project.title,
        dataset: this.state.dataset,
        settings: this.state.settings,
        head: this.headRecord,
        modelFingerprint: this.project.model.fingerprint,
        embeddingSize: this.project.model.embedding_size,
      });
    } catch (error) {
      this.notify(`The project file could not be made: ${error.message}`, "error");
      return null;
    }
    const slug =
      this.project.title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "") || "teachkit";
    this.notify(`Saved ${this.state.dataset.samples.length} samples to a project file.`);
    return { blob, name: `${slug}.teachkit.zip` };
  }

  // Replaces the session with a project file's, or, if anything in the file is wrong, changes nothing.
  async importProjectFile(file) {
    if (this.guardTraining() || !this.embedder) return;
    let imported;
    let head = null;
    try {
      imported = importProject(new Uint8Array(await file.arrayBuffer()), {
        modelFingerprint: this.project.model.fingerprint,
        embeddingSize: this.project.model.embedding_size,
      });
      if (!imported.sameModel) imported.samples = await this.reembed(imported.samples);
      if (imported.head)
        head = restoreHead(imported.head.model, this.project.model.embedding_size, imported.samples);
    } catch (error) {
      const reason =
        error instanceof ProjectFileError
          ? error.message
          : `The project file could not be read: ${error.message}`;
      return this.notify(`"${file.name}": ${reason} Nothing was changed.`, "error");
    }
    try {
      await this.store?.replaceAll({
        classes: imported.classes,
        samples: imported.samples,
        head: imported.head,
        modelKey: this.project.model.fingerprint,
      });
    } catch (error) {
      head?.dispose();
      return this.notify(`${error.message} Nothing was changed.`, "error");
    }
    this.stopLive();
    this.head?.dispose();
    this.head = head;
    this.headRecord = head ? imported.head : null;
    const settings = { head: { ...this.state.settings.head }, training: { ...this.state.settings.training } };
    for (const section of ["head", "training"]) {
      for (const [key, value] of Object.entries(imported.settings?.[section] ?? {})) {
        if (key in settings[section] && !SETTING_CHECKS[key]?.(value)) settings[section][key] = value;
      }
    }
    const history = head ? imported.head.history : [];
    this.update({
      dataset: new Dataset(imported.classes, imported.samples),
      settings,
      prediction: null,
      training: {
        state: head ? "done" : "idle",
        epoch: history.length,
        epochs: history.length,
        history,
        evaluation: head ? imported.head.evaluation : null,
        stale: false,
      },
    });
    const trained = head ? " and the trained model" : "";
    this.notify(
      `Imported ${imported.samples.length} samples in ${imported.classes.length} classes${trained}.`,
    );
  }

  // ---- prediction --------------------------------------------------------------------------

  async predictFrom(source, origin) {
    this.showPrediction(await this.embed(source), origin);
  }

  showPrediction(embedding, origin) {
    const probabilities = this.head.predict(embedding);
    const { dataset } = this.state;
    const scored = this.head.classIds.map((classId, index) => ({
      classId,
      name: dataset.classById(classId)?.name ?? "?",
      probability: probabilities[index],
    }));
    const best = scored.reduce((a, b) => (b.probability > a.probability ? b : a));
    this.update({
      prediction: {
        label: best.name,
        classId: best.classId,
        confidence: best.probability,
        scores: scored,
        neighbors: nearest(dataset.samples, embedding, 3),
        origin,
      },
      predictionCount: this.state.predictionCount + 1,
    });
  }

  async predictFile(file) {
    if (!this.trained) return this.notify("Train the model before asking it about an image.", "error");
    const problem = precheck(file);
    const bitmap = problem ? null : await decode(file);
    if (!bitmap) {
      return this.notify(
        problem ?? `"${file.name}" is not an image this browser can read, or it is damaged.`,
        "error",
      );
    }
    try {
      await this.predictFrom(bitmap, file.name);
    } catch (error) {
      this.notify(`"${file.name}" could not be classified: ${error.message}`, "error");
    } finally {
      bitmap.close();
    }
  }

  async startLive() {
    if (!this.trained) return this.notify("Train the model before predicting live.", "error");
    if (this.state.live) return;
    this.update({ live: true, liveFps: null });
    if (!(await this.videoReady())) return this.update({ live: false });
    let frames = 0;
    let windowStart = performance.now();
    let taken = 0;
    let shown = 0; // with two workers an older frame can finish last; it is not shown
    let failure = null;
    let nextFrame = nextVideoFrame(this.video);
    while (this.state.live && this.head && !failure) {
      await this.embedder.whenIdle();
      await nextFrame;
      // Ask for the following frame first: one that arrives while this one is embedded is used at once.
      nextFrame = nextVideoFrame(this.video);
      if (!this.state.live || !this.head) break;
      const frame = (taken += 1);
      this.embed(this.video)
        .then((embedding) => {
          if (!this.state.live || !this.head || frame < shown) return;
          shown = frame;
          this.showPrediction(embedding, "camera");
          frames += 1;
          const elapsed = performance.now() - windowStart;
          if (elapsed >= 1000) {
            this.update({ liveFps: (frames * 1000) / elapsed });
            frames = 0;
            windowStart = performance.now();
          }
        })
        .catch((error) => (failure ??= error));
    }
    if (failure) {
      this.update({ live: false });
      this.notify(`Live prediction stopped: ${failure.message}`, "error");
    }
  }

  stopLive() {
    if (this.state.live) this.update({ live: false });
  }
}
