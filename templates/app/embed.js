// embed.js: for host pages. `const tk = await connect(iframe)` gives a client with the methods and
// events of the embedded page's window.teachkit, over postMessage (penpal). Built as an ES module
// (embed.js) and as a classic script (embed-classic.js, `teachkitEmbed.connect`) for hosts opened
// from file://, where module scripts cannot be loaded.
import { WindowMessenger, connect as penpalConnect } from "penpal";
import { METHODS } from "./api/methods.js";
import { TeachkitError } from "./core/errors.js";

// Where this script was loaded from: the classifier and the WASM binaries sit beside it.
const HERE = (typeof document !== "undefined" && document.currentScript?.src) || import.meta.url;

// Runs a model download (the page's "Download model") in this page, with no teaching page:
// resolves to {labels, metadata, predict(image), classify(image), dispose()}. The classifier
// script (TF.js, about 1 MB) is fetched only now.
export async function load(source, options = {}) {
  const classifier = await import(new URL("teachkit-classifier.js", HERE).href);
  return classifier.load(source, { wasmBase: new URL("wasm/", HERE).href, ...options });
}

// Only some images survive postMessage as they are; elements are sent as ImageBitmaps.
async function sendable(image) {
  const elements = [globalThis.HTMLImageElement, globalThis.HTMLCanvasElement, globalThis.HTMLVideoElement];
  if (elements.some((type) => type && image instanceof type)) return createImageBitmap(image);
  return image;
}

// A call's arguments as they can cross to the page: the images (methods.js `images`) made sendable.
const SENDABLE = {
  first: async ([image, ...rest]) => [await sendable(image), ...rest],
  second: async ([first, images, ...rest]) => [
    first,
    await Promise.all(Array.from(images, sendable)),
    ...rest,
  ],
  items: async ([items, ...rest]) => [await sendableItems(items), ...rest],
  secondItems: async ([first, items, ...rest]) => [first, await sendableItems(items), ...rest],
};

// Test items [{image, className}] (evaluate, compareSubmissions) with their images made sendable.
async function sendableItems(items) {
  if (!Array.isArray(items)) return items;
  return Promise.all(items.map(async (item) => ({ ...item, image: await sendable(item?.image) })));
}

function unwrap(reply) {
  if (reply?.error) throw new TeachkitError(reply.error.code, reply.error.message);
  return reply?.value;
}

function openConnection(iframe, origin, methods) {
  return penpalConnect({
    // A page opened from file:// has the origin "null", which postMessage cannot address.
    messenger: new WindowMessenger({
      remoteWindow: iframe.contentWindow,
      allowedOrigins: [origin === "null" ? "*" : origin],
    }),
    methods,
  });
}

// Resolves to the penpal connection that completed its handshake within `timeout` ms. A page that
// cannot see its parent's origin waits for the parent's first handshake message; one sent while
// the page was still loading is lost, so the handshake starts again once the iframe has loaded.
function handshake(iframe, origin, methods, timeout) {
  return new Promise((resolve, reject) => {
    let current = null;
    let settled = false;
    const attempt = () => {
      current?.destroy();
      const connection = openConnection(iframe, origin, methods);
      current = connection;
      connection.promise.then(
        () => {
          if (settled || connection !== current) return;
          settled = true;
          clearTimeout(timer);
          window.removeEventListener("message", listen);
          resolve(connection);
        },
        () => {},
      );
    };
    const timer = setTimeout(() => {
      settled = true;
      current.destroy();
      window.removeEventListener("message", listen);
      reject(new Error(`no answer within ${timeout} ms`));
    }, timeout);
    // Restarting a handshake that is under way would only race it: restart only if the page has
    // said nothing at all so far.
    let heard = false;
    const listen = (event) => {
      if (event.source === iframe.contentWindow && event.data?.namespace === "penpal") heard = true;
    };
    window.addEventListener("message", listen);
    iframe.addEventListener("load", () => settled || heard || attempt(), { once: true });
    attempt();
  });
}

function pageOrigin(iframe) {
  const source = iframe.getAttribute("src");
  if (!source)
    throw new TeachkitError("bad_argument", "connect() needs an <iframe> whose src is the teachkit page.");
  const url = new URL(source, document.baseURI);
  // Messages from a file:// page come from the origin "null", whatever URL.origin says.
  return url.protocol === "file:" ? "null" : url.origin;
}

// Resolves to the client once the page in `iframe` answers; rejects with code "no_connection"
// when it does not within `timeout` ms (the page does not list this page's origin in its project's
// [embed] allowed_origins, or it is not a teachkit page). `resize: false` leaves the iframe's height
// alone; otherwise it follows the page's height.
export async function connect(iframe, { timeout = 15000, resize = true } = {}) {
  // Duck-typed: an <iframe> of another same-origin document is no instance of this one's class.
  if (!iframe?.contentWindow || typeof iframe.getAttribute !== "function")
    throw new TeachkitError("bad_argument", "connect() needs an <iframe> element.");
  const origin = pageOrigin(iframe);
  const handlers = new Map();
  const methods = {
    emit(name, payload) {
      for (const handler of handlers.get(name) ?? []) handler(payload);
    },
    resize(height) {
      if (resize) iframe.style.height = `${height}px`;
    },
  };
  let connection;
  try {
    connection = await handshake(iframe, origin, methods, timeout);
  } catch (error) {
    throw new TeachkitError(
      "no_connection",
      `The teachkit page at ${origin} did not answer: ${error.message}. ` +
        `Is this page's origin (${location.origin}) in the project's [embed] allowed_origins?`,
    );
  }
  const remote = await connection.promise;
  const { version, title } = unwrap(await remote.hello());
  const client = { version, title };
  for (const { name, images } of METHODS) {
    const prepare = SENDABLE[images] ?? (async (args) => args);
    client[name] = async (...args) => unwrap(await remote[name](...(await prepare(args))));
  }
  client.ready = remote.whenReady().then(unwrap);
  client.on = (name, handler) => {
    if (!handlers.has(name)) handlers.set(name, new Set());
    handlers.get(name).add(handler);
    return () => handlers.get(name)?.delete(handler);
  };
  client.close = () => connection.destroy();
  return Object.freeze(client);
}
