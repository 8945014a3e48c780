// Persistence in IndexedDB: classes, samples (embedding, thumbnail, crop), the trained head and the
// visitor's settings, so closing the tab loses nothing. Every write is one transaction: it lands
// whole or not at all.

const VERSION = 1;

export class StoreError extends Error {
  constructor(message, { quota = false } = {}) {
    super(message);
    this.quota = quota;
  }
}

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function describeFailure(error) {
  if (error?.name === "QuotaExceededError") {
    return new StoreError(
      "The browser's storage for this page is full, so this was not saved. Delete some samples " +
        "or free disk space; what was saved before is still there.",
      { quota: true },
    );
  }
  return new StoreError(`Saving in the browser failed: ${error?.message ?? error}`);
}

export class Storage {
  constructor(database) {
    this.database = database;
  }

  // One database per page location and project, so several demos on one site stay apart.
  static async open(name) {
    if (!globalThis.indexedDB) throw new StoreError("This browser offers no storage for this page.");
    const request = indexedDB.open(name, VERSION);
    request.onupgradeneeded = () => {
      const database = request.result;
      database.createObjectStore("classes", { keyPath: "id" });
      database.createObjectStore("samples", { keyPath: "id" });
      database.createObjectStore("meta");
    };
    try {
      return new Storage(await promised(request));
    } catch (error) {
      throw new StoreError(`This browser refused storage for this page (${error?.message ?? error}).`);
    }
  }

  async write(storeNames, work) {
    const transaction = this.database.transaction(storeNames, "readwrite");
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    try {
      work(Object.fromEntries(storeNames.map((name) => [name, transaction.objectStore(name)])));
      await done;
    } catch (error) {
      throw describeFailure(error);
    }
  }

  // Everything stored. With `initial` ({classes, modelKey}) an empty database is given those
  // classes in the same transaction, so two tabs opening a fresh page agree on one set of classes.
  load(initial = null) {
    const names = ["classes", "samples", "meta"];
    const transaction = this.database.transaction(names, initial ? "readwrite" : "readonly");
    const stores = Object.fromEntries(names.map((name) => [name, transaction.objectStore(name)]));
    const result = { classes: [], samples: [], head: null, modelKey: null, settings: null, started: false };
    stores.classes.getAll().onsuccess = (event) => {
      result.classes = event.target.result;
      if (initial && !result.classes.length) {
        initial.classes.forEach(({ id, name }, order) => stores.classes.put({ id, name, order }));
        stores.meta.put(initial.modelKey, "modelKey");
        result.started = true;
      }
    };
    stores.samples.getAll().onsuccess = (event) => (result.samples = event.target.result);
    for (const key of ["head", "modelKey", "settings"])
      stores.meta.get(key).onsuccess = (event) => (result[key] = event.target.result ?? null);
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => {
        result.classes.sort((a, b) => a.order - b.order);
        result.classes = result.classes.map(({ id, name }) => ({ id, name }));
        result.samples.sort((a, b) => a.added - b.added);
        resolve(result);
      };
      transaction.onerror = () => reject(describeFailure(transaction.error));
      transaction.onabort = () => reject(describeFailure(transaction.error));
    });
  }

  // One change, in one transaction: `classes` (the whole list, in order), samples to put and
  // sample ids to delete, and the head and settings (undefined: unchanged; null: removed).
  change({ classes, putSamples = [], deleteSamples = [], head, settings }) {
    const names = [];
    if (classes) names.push("classes");
    if (putSamples.length || deleteSamples.length) names.push("samples");
    if (head !== undefined || settings !== undefined) names.push("meta");
    if (!names.length) return Promise.resolve();
    return this.write(names, (stores) => {
      if (classes) {
        stores.classes.clear();
        classes.forEach(({ id, name }, order) => stores.classes.put({ id, name, order }));
      }
      deleteSamples.forEach((id) => stores.samples.delete(id));
      for (const sample of putSamples) stores.samples.put(storedSample(sample));
      if (head) stores.meta.put(head, "head");
      else if (head === null) stores.meta.delete("head");
      if (settings) stores.meta.put(settings, "settings");
      else if (settings === null) stores.meta.delete("settings");
    });
  }

  // What this browser published to the cloud (features/cloud.js): a list kept apart from the
  // session, so replacing the session never forgets a copy the visitor may want to delete.
  savePublished(published) {
    return this.write(["meta"], (stores) => stores.meta.put(published, "published"));
  }

  async loadPublished() {
    const transaction = this.database.transaction(["meta"], "readonly");
    return (await promised(transaction.objectStore("meta").get("published"))) ?? [];
  }

  replaceAll({ classes, samples, head, modelKey, settings = null }) {
    return this.write(["classes", "samples", "meta"], (stores) => {
      stores.classes.clear();
      stores.samples.clear();
      for (const key of ["head", "settings", "modelKey"]) stores.meta.delete(key);
      classes.forEach(({ id, name }, order) => stores.classes.put({ id, name, order }));
      for (const sample of samples) stores.samples.put(storedSample(sample));
      if (head) stores.meta.put(head, "head");
      if (settings) stores.meta.put(settings, "settings");
      stores.meta.put(modelKey, "modelKey");
    });
  }
}

function storedSample({ id, classId, embedding, thumb, image, added, value }) {
  return value === undefined
    ? { id, classId, embedding, thumb, image, added }
    : { id, classId, embedding, thumb, image, added, value };
}
