// Embeddings for the app. The base model runs in a pool of workers, so that recording, uploads and
// live prediction never block the page and two frames are embedded at once, or, where no worker can
// run it, on the page. Which runtime runs it (LiteRT.js or TF.js, and which build) is the ladder's
// choice (runtime_ladder.js, features/session.js). Either way, with an input-sized ImageData:
//   embed(pixels) → Promise<Float32Array>: the embedding, nothing else copied (live prediction).
//   embedWithMap(pixels) → Promise<{embedding, map, rows, cols}>, from the same single pass:
//     `map` is the base model's last feature map before its global average pooling, a
//     Float32Array of rows × cols × channels (channels = embedding.length), row-major from the
//     top-left of the model's input square, channels last; the embedding is the mean of its
//     rows × cols cell vectors (Lite0: 7 × 7 × 1280). A base model without a map answers
//     map: null, rows: 0, cols: 0 (`hasMap` says so beforehand). Explanations (CAM: a head's
//     evidence per cell; occlusion: a batch of embeddings) build on this.

// `model` is a loaded BaseModel or LiteRtModel; `reason` says why it runs on the page.
export class InlineEmbedder {
  constructor(model, reason) {
    this.model = model;
    this.text = `base model on the page${reason ? ` (${reason})` : ""}`;
  }

  async embed(pixels) {
    return this.model.embed(pixels);
  }

  async embedWithMap(pixels) {
    return this.model.embedWithMap(pixels);
  }

  get hasMap() {
    return this.model.hasMap;
  }

  get workerCount() {
    return 0;
  }

  get backlog() {
    return 0;
  }

  whenIdle() {
    return Promise.resolve();
  }

  dispose() {
    this.model.dispose();
  }
}

class WorkerPool {
  // `load` is the message that makes a worker load its model (tfjs_worker.js, litert_worker.js);
  // `warmUp` resolves to the pixels it warms up on (RGBA), sent as soon as the page has them, so
  // that the worker starts loading at once; `check` throws if the warm-up embedding is wrong.
  constructor({ workerUrl, load, warmUp, onChange, check }) {
    this.workerUrl = workerUrl;
    this.onChange = onChange;
    this.warmUp = warmUp;
    this.check = check;
    this.load = { type: "load", ...load };
    this.workers = []; // {worker, job}: job is the {pixels, withMap, resolve, reject} being embedded
    this.queue = [];
    this.idleWaiters = [];
    this.disposed = false;
    this.hasMap = false; // said by the first worker that is ready
  }

  get workerCount() {
    return this.workers.length;
  }

  get text() {
    const count = this.workers.length;
    return `base model in ${count} worker${count === 1 ? "" : "s"}`;
  }

  // Starts one more worker; resolves once its model is ready and has passed the check.
  async spawn() {
    const worker = new Worker(this.workerUrl);
    try {
      const ready = await new Promise((resolve, reject) => {
        worker.onmessage = ({ data }) =>
          data.type === "ready" ? resolve(data) : reject(new Error(data.message));
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(event.message || "the worker script could not run"));
        };
        worker.postMessage(this.load);
        this.warmUp.then((pixels) => worker.postMessage({ type: "warm-up", pixels }), reject);
      });
      await this.check(ready.warmUp);
      this.hasMap = ready.hasMap;
    } catch (error) {
      worker.terminate();
      throw error;
    }
    if (this.disposed) {
      worker.terminate();
      throw new Error("the workers were stopped");
    }
    const entry = { worker, job: null };
    worker.onmessage = ({ data }) => this.finish(entry, data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.lose(entry, event.message || "the model worker stopped");
    };
    this.workers.push(entry);
    this.dispatch();
    this.onChange(this);
  }

  embed(pixels) {
    return this.enqueue(pixels, false).then(({ embedding }) => embedding);
  }

  embedWithMap(pixels) {
    return this.enqueue(pixels, true);
  }

  enqueue(pixels, withMap) {
    if (!this.workers.length) return Promise.reject(new Error("The model stopped working; reload the page."));
    return new Promise((resolve, reject) => {
      this.queue.push({ pixels, withMap, resolve, reject });
      this.dispatch();
    });
  }

  // Frames waiting or being embedded.
  get backlog() {
    return this.queue.length + this.workers.filter((entry) => entry.job).length;
  }

  get idle() {
    return !this.queue.length && this.workers.some((entry) => !entry.job);
  }

  // Resolves when a worker could start on a new frame at once.
  whenIdle() {
    if (this.idle || !this.workers.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispatch() {
    for (const entry of this.workers) {
      if (entry.job || !this.queue.length) continue;
      entry.job = this.queue.shift();
      // The pixels move to the worker rather than being copied: the caller is done with them.
      const { pixels, withMap } = entry.job;
      entry.worker.postMessage({ type: "embed", pixels, withMap }, [pixels.data.buffer]);
    }
    if (this.idle) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  finish(entry, data) {
    const job = entry.job;
    entry.job = null;
    if (data.type !== "embedding") job.reject(new Error(data.message));
    else if (!job.withMap) job.resolve({ embedding: data.embedding });
    else {
      const { embedding, map = null, rows = 0, cols = 0 } = data;
      job.resolve({ embedding, map, rows, cols });
    }
    this.dispatch();
  }

  lose(entry, reason) {
    entry.worker.terminate();
    this.workers = this.workers.filter((other) => other !== entry);
    entry.job?.reject(new Error(reason));
    if (!this.workers.length) {
      for (const job of this.queue.splice(0)) job.reject(new Error(`${reason}; reload the page.`));
      this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
    this.dispatch();
    this.onChange(this);
  }

  dispose() {
    this.disposed = true;
    for (const entry of this.workers) entry.worker.terminate();
    this.workers = [];
  }
}

// Starts `workers` workers (at least one); resolves once the first one's model is ready, and starts
// the others then, so that they never delay the page becoming usable. Rejects if the first fails,
// to start or its check. `load` is what each worker is told to load, `warmUp` (a promise) what
// it warms up on; `check(warm-up embedding)` throws if that is wrong; `onChange` is called when
// workers start or stop.
export async function startWorkerPool(options) {
  if (typeof Worker === "undefined") throw new Error("this browser has no workers");
  const pool = new WorkerPool(options);
  try {
    await pool.spawn();
  } catch (error) {
    pool.dispose();
    throw error;
  }
  for (let i = 1; i < options.workers; i += 1) pool.spawn().catch(() => {}); // one is enough to work
  return pool;
}
