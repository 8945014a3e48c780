// Persistence in IndexedDB: classes, samples (embedding, thumbnail, crop) and the trained head, so
// closing the tab loses nothing. Every write is one transaction: it lands whole or not at all.

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

  async load() {
    const transaction = this.database.transaction(["classes", "samples", "meta"], "readonly");
    const [classes, samples, head, modelKey] = await Promise.all([
      promised(transaction.objectStore("classes").getAll()),
      promised(transaction.objectStore("samples").getAll()),
      promised(transaction.objectStore("meta").get("head")),
      promised(transaction.objectStore("meta").get("modelKey")),
    ]);
    classes.sort((a, b) => a.order - b.order);
    return {
      classes: classes.map(({ id, name }) => ({ id, name })),
      samples: samples.sort((a, b) => a.added - b.added),
      head: head ?? null,
      modelKey: modelKey ?? null,
    };
  }

  saveClasses(classes) {
    return this.write(["classes"], ({ classes: store }) => {
      store.clear();
      classes.forEach(({ id, name }, order) => store.put({ id, name, order }));
    });
  }

  addSamples(samples) {
    return this.write(["samples"], ({ samples: store }) => {
      for (const { id, classId, embedding, thumb, image, added } of samples) {
        store.put({ id, classId, embedding, thumb, image, added });
      }
    });
  }

  deleteSamples(ids) {
    return this.write(["samples"], ({ samples: store }) => ids.forEach((id) => store.delete(id)));
  }

  replaceAll({ classes, samples, head, modelKey }) {
    return this.write(["classes", "samples", "meta"], (stores) => {
      stores.classes.clear();
      stores.samples.clear();
      stores.meta.clear();
      classes.forEach(({ id, name }, order) => stores.classes.put({ id, name, order }));
      for (const { id, classId, embedding, thumb, image, added } of samples) {
        stores.samples.put({ id, classId, embedding, thumb, image, added });
      }
      if (head) stores.meta.put(head, "head");
      stores.meta.put(modelKey, "modelKey");
    });
  }

  saveHead(head) {
    return this.write(["meta"], ({ meta }) => (head ? meta.put(head, "head") : meta.delete("head")));
  }

  saveModelKey(modelKey) {
    return this.write(["meta"], ({ meta }) => meta.put(modelKey, "modelKey"));
  }
}
