// The page's side of embed.js: when the page is in an iframe and the project allows the parent's
// origin, the same API is offered to that parent over postMessage (penpal). Messages from any
// other origin, or from any window that is not the parent, are ignored and get no answer. Calls
// that would hand the visitor's images or embeddings to the host wait for the visitor's consent
// (methods.js says which).
import { WindowMessenger, connect } from "penpal";
import { TeachkitError, asTeachkitError } from "../core/errors.js";
import { requestApproval } from "../features/approval.js";
import { METHODS } from "./methods.js";
import { API_VERSION, EVENTS } from "./page_api.js";

// A reply that keeps the error's code: penpal passes only an error's name and message.
async function answer(work) {
  try {
    return { value: await work() };
  } catch (raw) {
    const error = asTeachkitError(raw);
    return { error: { code: error.code, message: error.message } };
  }
}

// `hostOrigin()` is the connected host's origin.
function hostMethods(api, context, hostOrigin) {
  const consent = async (what) => {
    const origin = hostOrigin();
    if (!(await requestApproval(context, origin, what)))
      throw new TeachkitError("forbidden", `The visitor did not allow ${origin} to ${what}.`);
  };
  const methods = { hello: () => ({ value: { version: API_VERSION, title: context.project.title } }) };
  const call = async ({ name, params, consent: asks }, args) => {
    const forwarded = params.map((_, index) => args[index]);
    const what = asks?.(context.store.get(), forwarded);
    if (what) await consent(what);
    return api[name](...forwarded);
  };
  for (const row of METHODS) methods[row.name] = (...args) => answer(() => call(row, args));
  methods.whenReady = () => answer(() => api.ready);
  return methods;
}

// Keeps messages of other origins away from penpal altogether; `onAllowed(origin, data)` sees
// the parent's messages from an allowed origin. (For a host opened from file://, origin "null",
// penpal must answer with targetOrigin "*", which it only does when told to allow "*": this gate
// is then what still limits the page to the allowed origins.)
function gateOrigins(allowed, onAllowed) {
  window.addEventListener(
    "message",
    (event) => {
      if (event.source !== window.parent) return; // penpal ignores these itself
      if (allowed.includes(event.origin)) onAllowed(event.origin, event.data);
      else event.stopImmediatePropagation();
    },
    { capture: true },
  );
}

function followHeight(remote) {
  let last = 0;
  const send = () => {
    const height = Math.ceil(document.documentElement.scrollHeight);
    if (height !== last) {
      last = height;
      remote.resize(height).catch(() => {});
    }
  };
  new ResizeObserver(send).observe(document.body);
  send();
}

function startConnection(api, context, origin) {
  const messenger = new WindowMessenger({
    remoteWindow: window.parent,
    allowedOrigins: [origin === "null" ? "*" : origin],
  });
  const connection = connect({ messenger, methods: hostMethods(api, context, () => origin) });
  connection.promise.then((remote) => {
    for (const name of EVENTS) api.on(name, (payload) => remote.emit(name, payload).catch(() => {}));
    followHeight(remote);
  });
}

// The page says nothing to a parent it does not know to be allowed: where the browser names the
// parent's origin (location.ancestorOrigins) it starts the handshake at once; otherwise it waits
// for an allowed parent's first handshake message (embed.js starts again once the iframe has
// loaded, in case that message came before this page listened).
export function connectHost(api, context) {
  const allowed = context.project.embed?.allowed_origins ?? [];
  if (window.parent === window || !allowed.length) return;
  let origin = null;
  const start = (from) => {
    if (origin) return;
    origin = from;
    startConnection(api, context, origin);
  };
  gateOrigins(allowed, (from, data) => {
    if (data?.namespace === "penpal" && data?.type === "SYN") start(from);
  });
  const parent = location.ancestorOrigins?.[0];
  if (allowed.includes(parent)) start(parent);
}
