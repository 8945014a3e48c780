// Talking to the project's cloud receiver (`teachkit receive`, docs/receiver.md): one
// upload with progress, JSON and file reads, and every way the network can fail turned into a
// TeachkitError with a plain message. The page's CSP lets it reach only the project's receiver.
import { TeachkitError } from "../core/errors.js";

// Without progress (upload or answer) for this long, a request is given up: a receiver that hangs
// must not leave the visitor waiting for ever.
export const STALL_MS = 20000;

function unreachable(base, why) {
  const offline = globalThis.navigator?.onLine === false;
  return new TeachkitError(
    "cloud_unreachable",
    offline
      ? "This computer is offline, so the cloud cannot be reached. Nothing here was lost: try again when it is back online."
      : `The cloud (${base}) ${why}. Nothing here was lost: try again in a moment.`,
  );
}

// The receiver answers errors as {error: {code, message}}; anything else is said as it is.
function refused(status, body) {
  let message = null;
  try {
    message = JSON.parse(body)?.error?.message ?? null;
  } catch {
    // not JSON: a proxy's page, say
  }
  const what =
    status >= 500
      ? `The cloud failed (error ${status})`
      : status === 404
        ? "The cloud has no such model (error 404)"
        : `The cloud refused this (error ${status})`;
  const tail = status >= 500 ? " Nothing here was lost: try again later." : "";
  const error = new TeachkitError("cloud_refused", `${what}${message ? `: ${message}` : "."}${tail}`);
  // What the receiver said, for a caller that turns its codes into the page's own.
  error.answer = { status, code: answerCode(body), message };
  return error;
}

function answerCode(body) {
  try {
    return JSON.parse(body)?.error?.code ?? null;
  } catch {
    return null;
  }
}

// One request by XMLHttpRequest (fetch cannot report upload progress). Resolves to the response
// body as text, or bytes with `binary`; `onProgress(sent, total)` follows an upload.
export function request(base, method, url, { body = null, headers = {}, binary = false, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let timer = null;
    const stalled = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        xhr.abort();
        reject(unreachable(base, `did not answer within ${STALL_MS / 1000} seconds`));
      }, STALL_MS);
    };
    xhr.open(method, url);
    if (binary) xhr.responseType = "arraybuffer";
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      stalled();
      if (event.lengthComputable) onProgress?.(event.loaded, event.total);
    };
    xhr.onprogress = stalled;
    xhr.onerror = () => {
      clearTimeout(timer);
      reject(unreachable(base, "cannot be reached"));
    };
    xhr.onload = () => {
      clearTimeout(timer);
      if (xhr.status >= 200 && xhr.status < 300)
        resolve(binary ? new Uint8Array(xhr.response) : xhr.responseText);
      else reject(refused(xhr.status, binary ? new TextDecoder().decode(xhr.response) : xhr.responseText));
    };
    stalled();
    xhr.send(body);
  });
}

// A client for the receiver at `base` (ends with "/").
export function cloudClient(base) {
  const at = (path) => new URL(path, base).href;
  const json = async (method, path, options) => JSON.parse(await request(base, method, at(path), options));
  return {
    base,
    modelUrl: (id) => at(`models/${encodeURIComponent(id)}/`),
    info: () => json("GET", ""),
    list: async () => (await json("GET", "models")).models,
    model: (id) => json("GET", `models/${encodeURIComponent(id)}/`),
    text: (id, name) => request(base, "GET", at(`models/${encodeURIComponent(id)}/${name}`)),
    bytes: (id, name) =>
      request(base, "GET", at(`models/${encodeURIComponent(id)}/${name}`), { binary: true }),
    // Resolves to {id, url, delete_token}.
    publish: (form, onProgress) => json("POST", "models", { body: form, onProgress }),
    remove: (id, token) =>
      json("DELETE", `models/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${token}` } }),
    // Hands a model in to the class `code` (features/hand_in.js); `token`, the delete token of this
    // name's earlier hand-in, lets the receiver replace it. Resolves to {id, url, delete_token,
    // replaced}; the receiver's refusals of a class keep their codes and sentences.
    handIn: async (code, form, token, onProgress) => {
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      const path = `classes/${encodeURIComponent(code)}/submissions`;
      try {
        return await json("POST", path, { body: form, headers, onProgress });
      } catch (error) {
        const answer = error.answer;
        // The receiver's sentence, said as the page's own (its messages start in lower case).
        if (HAND_IN_REFUSALS.includes(answer?.code) && answer.message)
          throw new TeachkitError(answer.code, answer.message[0].toUpperCase() + answer.message.slice(1));
        // A receiver that knows no classes (one older than hand-ins) says only "not found".
        if (answer?.status === 404 && !answer.code)
          throw new TeachkitError(
            "cloud_refused",
            `The cloud (${base}) takes no hand-ins for classes (error 404): ask your teacher to run a ` +
              "newer teachkit receive.",
          );
        throw error;
      }
    },
    // A class's hand-ins, for its teacher: {code, title, closed, created, submissions}.
    submissions: (code, token) =>
      json("GET", `classes/${encodeURIComponent(code)}/submissions`, {
        headers: { Authorization: `Bearer ${token}` },
      }),
  };
}

// The receiver's refusals of a hand-in that the page passes on under the same code.
const HAND_IN_REFUSALS = ["unknown_class_code", "class_closed", "name_taken"];
