// The hosted site's service worker (sw.js): after the first visit the site is kept in the
// browser's Cache Storage, so a return visit fetches only a revalidation of manifest.json and the
// page works offline on that device.
//
// Everything follows the site's manifest.json: each build is one cache named by the manifest's
// sha256, filled only with files whose sha256 matches the manifest, and marked complete by storing
// the manifest last. A navigation revalidates manifest.json: an unknown hash is a rebuilt site,
// which that visit loads from the network while it is cached. Each page (and each of its workers)
// keeps the build it was opened with, so no page ever mixes files of two builds; a build no open
// page uses is deleted. Only same-origin GET requests under the site's own folder are answered;
// everything else (the cloud receiver, uploads) goes to the network untouched.

const SCOPE = self.registration.scope; // ends with "/": the site's folder (a GitHub Pages sub-path)
// One origin may host several sites (USER.github.io/a/ and /b/): caches are named by the folder.
const PREFIX = `teachkit:${new URL(SCOPE).pathname}:`;
const CLIENTS_CACHE = `${PREFIX}clients`;
const MANIFEST = "manifest.json";
// A network that answers too slowly is treated as none: the saved build opens instead.
const REVALIDATE_MS = 3000;

const buildOfClient = new Map(); // client id → build id, also kept in CLIENTS_CACHE across restarts
const saving = new Map(); // build id → the promise that caches it
const keeping = new Map(); // client id → the promise that caches the files it said it runs

function siteUrl(path) {
  return new URL(path, SCOPE).href;
}

function cacheName(id) {
  return `${PREFIX}build:${id}`;
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function withTimeout(promise, milliseconds) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), milliseconds);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The build the server has now: {id, manifest, bytes}, or null offline (or too slow).
async function serverBuild() {
  try {
    const response = await withTimeout(fetch(siteUrl(MANIFEST), { cache: "no-cache" }), REVALIDATE_MS);
    if (!response.ok) return null;
    const bytes = await response.arrayBuffer();
    const manifest = JSON.parse(new TextDecoder().decode(bytes));
    return { id: (await sha256(bytes)).slice(0, 32), manifest, bytes };
  } catch {
    return null;
  }
}

async function isComplete(id) {
  if (!(await caches.has(cacheName(id)))) return false;
  return Boolean(await (await caches.open(cacheName(id))).match(siteUrl(MANIFEST)));
}

// The newest complete build on this device (caches are listed in the order they were made).
async function newestSaved() {
  const names = (await caches.keys()).filter((name) => name.startsWith(`${PREFIX}build:`));
  for (const name of names.reverse()) {
    const id = name.slice(`${PREFIX}build:`.length);
    if (await isComplete(id)) return id;
  }
  return null;
}

// The file as the build has it, or null. An HTTP cache may hold an older build's copy (GitHub
// Pages lets browsers keep files for 10 minutes), so a mismatch is fetched again past it. A file
// the page loads only on some browsers or on request (`precache: false`) is taken only if this
// browser already fetched it.
async function fetchVerified(file) {
  const modes = file.precache === false ? ["only-if-cached"] : ["default", "reload"];
  for (const mode of modes) {
    try {
      const response = await fetch(siteUrl(file.path), { cache: mode, mode: "same-origin" });
      if (!response.ok) continue;
      const body = await response.arrayBuffer();
      if ((await sha256(body)) === file.sha256) return new Response(body, { headers: response.headers });
    } catch {
      // offline, or not in the HTTP cache: try the next way, or give up on this file
    }
  }
  return null;
}

async function save(build) {
  const cache = await caches.open(cacheName(build.id));
  for (const file of build.manifest.files ?? []) {
    if (await cache.match(siteUrl(file.path))) continue;
    const response = await fetchVerified(file);
    if (response) await cache.put(siteUrl(file.path), response);
    else if (file.precache !== false) throw new Error(`${file.path} does not match the site's manifest`);
  }
  // Stored last: a build is complete, and used offline, only once every file is in.
  await cache.put(
    siteUrl(MANIFEST),
    new Response(build.bytes, { headers: { "Content-Type": "application/json" } }),
  );
  await prune(build.id);
  await tellPages();
}

function saveOnce(build) {
  if (!saving.has(build.id)) {
    const done = save(build).finally(() => saving.delete(build.id));
    saving.set(build.id, done);
  }
  return saving.get(build.id).catch(() => {}); // an incomplete build is tried again on the next visit
}

async function assign(clientId, id) {
  if (!clientId || !id) return;
  buildOfClient.set(clientId, id);
  const cache = await caches.open(CLIENTS_CACHE);
  await cache.put(siteUrl(`.teachkit-clients/${clientId}`), new Response(id));
}

// The build a page or worker was opened with; one that opened before this worker ran (the first
// visit) gets the only build saved, and with two builds saved, none: the network answers it.
async function buildOf(clientId) {
  if (buildOfClient.has(clientId)) return buildOfClient.get(clientId);
  if (clientId) {
    const stored = await (await caches.open(CLIENTS_CACHE)).match(siteUrl(`.teachkit-clients/${clientId}`));
    if (stored) {
      const id = await stored.text();
      buildOfClient.set(clientId, id);
      return id;
    }
  }
  const names = (await caches.keys()).filter((name) => name.startsWith(`${PREFIX}build:`));
  return names.length === 1 ? names[0].slice(`${PREFIX}build:`.length) : null;
}

// Deletes every build but `current` that no open page or worker still uses.
async function prune(current) {
  const open = new Set(
    (await self.clients.matchAll({ type: "all", includeUncontrolled: true })).map((c) => c.id),
  );
  const clients = await caches.open(CLIENTS_CACHE);
  const inUse = new Set([current]);
  for (const request of await clients.keys()) {
    const clientId = request.url.split("/").pop();
    if (open.has(clientId)) inUse.add(await (await clients.match(request)).text());
    else {
      await clients.delete(request);
      buildOfClient.delete(clientId);
    }
  }
  for (const name of await caches.keys()) {
    if (name.startsWith(`${PREFIX}build:`) && !inUse.has(name.slice(`${PREFIX}build:`.length)))
      await caches.delete(name);
  }
}

async function tellPages() {
  for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true }))
    if (client.url.startsWith(SCOPE)) client.postMessage({ type: "teachkit:offline-changed" });
}

async function fromCache(id, path) {
  if (!id || !(await caches.has(cacheName(id)))) return undefined;
  return (await caches.open(cacheName(id))).match(siteUrl(path));
}

async function openPage(event) {
  const build = await serverBuild();
  const id = build?.id ?? (await newestSaved());
  const complete = Boolean(id) && (await isComplete(id));
  // A first sight of this build: the page loads from the network while the build is cached (and
  // the build before it is deleted only once this one is complete).
  if (build && !complete) event.waitUntil(saveOnce(build));
  event.waitUntil(assign(event.resultingClientId, id).then(() => complete && prune(id)));
  const cached = await fromCache(id, "index.html");
  return cached ?? fetch(event.request);
}

// A file of the page's build; one cached only when used (a panel's data) is kept once it arrives.
async function openFile(event, path) {
  const id = await buildOf(event.clientId);
  // A worker's own script: the worker keeps its page's build.
  if (event.resultingClientId) event.waitUntil(assign(event.resultingClientId, id));
  const cached = await fromCache(id, path);
  if (cached) return cached;
  const response = await fetch(event.request);
  if (id && response.ok) event.waitUntil(keepIfOfBuild(id, path, response.clone()));
  return response;
}

async function keepIfOfBuild(id, path, response) {
  const manifestResponse = await fromCache(id, MANIFEST);
  if (!manifestResponse) return; // still being saved: save() fetches it
  const file = (await manifestResponse.json()).files.find((entry) => entry.path === path);
  const body = await response.arrayBuffer();
  if (file && (await sha256(body)) === file.sha256)
    await (
      await caches.open(cacheName(id))
    ).put(siteUrl(path), new Response(body, { headers: response.headers }));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const build = await serverBuild();
      if (build) await saveOnce(build);
      await self.skipWaiting();
    })(),
  );
});

// The first visit's page is taken over at once, so the files it loads later (a panel's) are kept.
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || request.headers.has("range") || !request.url.startsWith(SCOPE)) return;
  const url = new URL(request.url);
  const path = url.pathname.slice(new URL(SCOPE).pathname.length);
  if (path === MANIFEST || path === "sw.js" || path.startsWith(".teachkit-clients/")) return;
  if (request.mode === "navigate") {
    // The page itself, with or without a query (?model=ID); other navigations are not the site's.
    if (path === "" || path === "index.html") event.respondWith(openPage(event));
    return;
  }
  event.respondWith(openFile(event, path));
});

// Files of the page's build that this browser runs but the build caches only when used (LiteRT.js's
// build for this browser), as the page fetched them: kept if they are the build's own files, byte
// for byte (checked against its manifest).
async function keepInUse(clientId, given) {
  const id = await buildOf(clientId);
  if (!id) return;
  await saving.get(id)?.catch(() => {});
  const manifestResponse = await fromCache(id, MANIFEST);
  if (!manifestResponse) return;
  const { files } = await manifestResponse.json();
  const cache = await caches.open(cacheName(id));
  for (const { url, bytes } of given) {
    if (typeof url !== "string" || !(bytes instanceof Uint8Array)) continue;
    const file = files.find((entry) => siteUrl(entry.path) === url);
    if (!file || (await cache.match(url)) || (await sha256(bytes)) !== file.sha256) continue;
    await cache.put(url, new Response(bytes, { headers: { "Content-Type": contentType(file.path) } }));
  }
}

function contentType(path) {
  if (path.endsWith(".wasm")) return "application/wasm";
  return path.endsWith(".js") ? "text/javascript" : "application/octet-stream";
}

self.addEventListener("message", (event) => {
  if (event.data?.type === "teachkit:keep" && Array.isArray(event.data.files)) {
    const kept = keepInUse(event.source?.id, event.data.files.slice(0, 16)).catch(() => {});
    keeping.set(event.source?.id, kept); // the page's build counts as saved once these are in
    event.waitUntil(kept);
    return;
  }
  // A page asks whether its build is saved on this device.
  if (event.data?.type !== "teachkit:offline-status") return;
  event.waitUntil(
    (async () => {
      await keeping.get(event.source?.id);
      const id = await buildOf(event.source?.id);
      const saved = Boolean(id) && (await isComplete(id));
      event.source?.postMessage({ type: "teachkit:offline-status", saved });
    })(),
  );
});
