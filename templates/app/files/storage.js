// Persistence in IndexedDB: classes, samples (embedding, thumbnail, crop), the trained head and the
// visitor's settings, so closing the tab loses nothing. Every write is one transaction: it lands
// whole or not at all.
//
// A sample's two JPEGs are Blobs on the page (what object URLs, createImageBitmap, the project file
// and the public API take) but are stored as their bytes and type: WebKit keeps no Blob in
// IndexedDB in an ephemeral session (Safari Private Browsing; WebKit bugs 39577 and 58216) and
// refuses the whole write without saying why. Records stored before with Blob fields load as they
// are and are not rewritten (the browser that stored them keeps them); a sample stored again
// (undo, an import, another base model) is stored as bytes.

const VERSION = 1;

export class StoreError extends Error {
  constructor(message, { quota = false } = {}) {
    super(message);
    this.quota = quota;
  }
}

const KEEP_A_COPY = "Use Save project file to keep your work.";

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// What the browser said, for the end of a message; "" when it said nothing worth repeating
// (WebKit refuses a Blob in an ephemeral session with a null error; an abort names no cause).
function browserSaid(error) {
  if (!error || error.name === "AbortError") return "";
  const said = [error?.name, error?.message].filter((part) => part && part !== "null" && part !== "Error");
  return said.length ? ` (The browser said: ${said.join(": ").replace(/\.$/, "")}.)` : "";
}

// `what` names what was being kept: "this image", "these images" or "this change".
function describeFailure(error, what = "this change", verb = "keep") {
  if (error?.name === "QuotaExceededError") {
    return new StoreError(
      "The browser's storage for this page is full, so this was not saved. Delete some samples " +
        "or free disk space; what was saved before is still there.",
      { quota: true },
    );
  }
  return new StoreError(
    `This browser did not let the page ${verb} ${what} (private windows and some browser settings ` +
      `keep nothing). ${KEEP_A_COPY}${browserSaid(error)}`,
  );
}

export class Storage {
  constructor(database) {
    this.database = database;
  }

  // One database per page location and project, so several demos on one site stay apart.
  static async open(name) {
    const refused = (error) =>
      new StoreError(
        "This browser gives this page no storage (private windows and some browser settings keep " +
          `nothing). ${KEEP_A_COPY}${browserSaid(error)}`,
      );
    let request;
    try {
      request = globalThis.indexedDB?.open(name, VERSION); // reading `indexedDB` may throw too
    } catch (error) {
      throw refused(error);
    }
    if (!request) throw refused(null);
    request.onupgradeneeded = () => {
      const database = request.result;
      database.createObjectStore("classes", { keyPath: "id" });
      database.createObjectStore("samples", { keyPath: "id" });
      database.createObjectStore("meta");
    };
    try {
      return new Storage(await promised(request));
    } catch (error) {
      throw refused(error);
    }
  }

  // `work(stores)` only makes requests: awaiting anything else inside it would let the
  // transaction commit early, so what needs awaiting (a Blob's bytes) is done before.
  async write(storeNames, work, what = "this change") {
    let failed = null; // the failed request's error: the transaction's own may be null
    const transaction = this.database.transaction(storeNames, "readwrite");
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = (event) => (failed ??= event.target?.error ?? null);
      transaction.onabort = () => reject(transaction.error ?? failed);
    });
    done.catch(() => {}); // heard below, or not at all when `work` throws
    try {
      work(Object.fromEntries(storeNames.map((name) => [name, transaction.objectStore(name)])));
    } catch (error) {
      // A request that throws (DataCloneError) leaves the transaction open: end it, keep nothing.
      transaction.abort();
      throw describeFailure(error, what);
    }
    try {
      await done;
    } catch (error) {
      throw describeFailure(error, what);
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
    stores.samples.getAll().onsuccess = (event) => (result.samples = event.target.result.map(loadedSample));
    for (const key of ["head", "modelKey", "settings"])
      stores.meta.get(key).onsuccess = (event) => (result[key] = event.target.result ?? null);
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => {
        result.classes.sort((a, b) => a.order - b.order);
        result.classes = result.classes.map(({ id, name }) => ({ id, name }));
        result.samples.sort((a, b) => a.added - b.added);
        resolve(result);
      };
      let failed = null;
      transaction.onerror = (event) => (failed ??= event.target?.error ?? null);
      transaction.onabort = () => reject(describeFailure(transaction.error ?? failed, "its samples", "read"));
    });
  }

  // One change, in one transaction: `classes` (the whole list, in order), samples to put and
  // sample ids to delete, and the head and settings (undefined: unchanged; null: removed).
  async change({ classes, putSamples = [], deleteSamples = [], head, settings }) {
    const names = [];
    if (classes) names.push("classes");
    if (putSamples.length || deleteSamples.length) names.push("samples");
    if (head !== undefined || settings !== undefined) names.push("meta");
    if (!names.length) return;
    const records = await Promise.all(putSamples.map(storedSample));
    const what = putSamples.length ? pictures(putSamples.length) : "this change";
    await this.write(
      names,
      (stores) => {
        if (classes) {
          stores.classes.clear();
          classes.forEach(({ id, name }, order) => stores.classes.put({ id, name, order }));
        }
        deleteSamples.forEach((id) => stores.samples.delete(id));
        for (const record of records) stores.samples.put(record);
        if (head) stores.meta.put(head, "head");
        else if (head === null) stores.meta.delete("head");
        if (settings) stores.meta.put(settings, "settings");
        else if (settings === null) stores.meta.delete("settings");
      },
      what,
    );
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

  // What this browser handed in to classes (features/hand_in.js), with each hand-in's delete
  // token: kept apart from the session like the published copies.
  saveHandIns(handedIn) {
    return this.write(["meta"], (stores) => stores.meta.put(handedIn, "handIns"));
  }

  async loadHandIns() {
    const transaction = this.database.transaction(["meta"], "readonly");
    return (await promised(transaction.objectStore("meta").get("handIns"))) ?? [];
  }

  // Small facts about this browser that outlive any session (features/persistence.js).
  remember(key, value) {
    return this.write(["meta"], (stores) => stores.meta.put(value, `browser:${key}`));
  }

  async recall(key) {
    const transaction = this.database.transaction(["meta"], "readonly");
    return (await promised(transaction.objectStore("meta").get(`browser:${key}`))) ?? null;
  }

  async replaceAll({ classes, samples, head, modelKey, settings = null }) {
    const records = await Promise.all(samples.map(storedSample));
    const what = samples.length ? pictures(samples.length) : "this change";
    await this.write(
      ["classes", "samples", "meta"],
      (stores) => {
        stores.classes.clear();
        stores.samples.clear();
        for (const key of ["head", "settings", "modelKey"]) stores.meta.delete(key);
        classes.forEach(({ id, name }, order) => stores.classes.put({ id, name, order }));
        for (const record of records) stores.samples.put(record);
        if (head) stores.meta.put(head, "head");
        if (settings) stores.meta.put(settings, "settings");
        stores.meta.put(modelKey, "modelKey");
      },
      what,
    );
  }
}

function pictures(count) {
  return count === 1 ? "this image" : "these images";
}

async function storedPicture(blob) {
  return blob ? { type: blob.type, bytes: await blob.arrayBuffer() } : null;
}

function loadedPicture(stored) {
  if (!stored || stored instanceof Blob) return stored ?? null;
  return new Blob([stored.bytes], { type: stored.type });
}

async function storedSample({ id, classId, embedding, thumb, image, added, value }) {
  const [thumbBytes, imageBytes] = await Promise.all([storedPicture(thumb), storedPicture(image)]);
  const record = { id, classId, embedding, thumb: thumbBytes, image: imageBytes, added };
  if (value !== undefined) record.value = value;
  return record;
}

function loadedSample(record) {
  return { ...record, thumb: loadedPicture(record.thumb), image: loadedPicture(record.image) };
}
