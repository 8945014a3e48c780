// A hosted page registers the site's service worker (sw.js, templates/app/service_worker.js), which
// keeps the site on this device after the first visit. Owns `offline`: "none" (a single file, or a
// browser without service workers), "insecure" (a hosted page on plain http, where browsers offer
// no service worker), "saving" or "saved" (this page's build is on this device).
export function initialState() {
  return { offline: "none" };
}

function hostedOverHttp(options) {
  // The single file carries its assets inside the page and registers nothing.
  return Boolean(options.hosted) && /^https?:$/.test(location.protocol);
}

// The files this browser runs that the worker caches only when used (not up front): LiteRT.js's
// build for this browser, which the page fetched before the worker was there. Handed over as
// bytes (the browser's HTTP cache may not have kept a file that large), and taken out of the page,
// which need not hold 9 MB more whether or not a worker takes them.
function takeFilesInUse({ services }) {
  const files = [...services.fetched].map(([url, bytes]) => ({ url, bytes }));
  services.fetched.clear();
  return files;
}

async function register(context, files) {
  const { store } = context;
  const container = navigator.serviceWorker;
  const ask = (worker) => worker?.postMessage({ type: "teachkit:offline-status" });
  container.addEventListener("message", (event) => {
    if (event.data?.type === "teachkit:offline-status")
      store.set({ offline: event.data.saved ? "saved" : "saving" });
    else if (event.data?.type === "teachkit:offline-changed") ask(event.source);
  });
  // A page the worker served is registered already (and the browser checks sw.js for updates
  // itself); registering again offline would fail. Relative URLs: the site may live under a
  // sub-path (GitHub Pages serves /REPO/).
  if (!container.controller)
    await container.register(context.options.serviceWorkerUrl, {
      scope: new URL("./", document.baseURI).href,
    });
  store.set({ offline: "saving" });
  const worker = (await container.ready).active;
  // Moved, not copied: the page has let go of them.
  worker?.postMessage(
    { type: "teachkit:keep", files },
    files.map(({ bytes }) => bytes.buffer),
  );
  ask(worker);
}

// Once the page is ready, so caching the site never competes with loading the model.
export function start(context) {
  const files = takeFilesInUse(context);
  if (!hostedOverHttp(context.options)) return;
  // A school server on plain http (not localhost): `navigator.serviceWorker` is not there at all.
  if (globalThis.isSecureContext === false) {
    context.store.set({ offline: "insecure" });
    return;
  }
  if (!("serviceWorker" in navigator)) return;
  // Refused (a private window, an embedding page's settings): the page works as before, online.
  register(context, files).catch(() => context.store.set({ offline: "none" }));
}
