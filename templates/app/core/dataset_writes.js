// Every change of what the page stores (classes, samples, the trained head, the settings) goes
// through one queue: a change is planned from the state as it is when its turn comes, written in
// one transaction, and shown only once it landed, so the page never shows what a reload would
// lose. Reloads of another tab's changes (files/sync.js) take their turn in the same queue, so
// they never race a local write.
import { TeachkitError } from "./errors.js";

// The queue of one page: `services.writer`.
export function createWriter() {
  return { queue: Promise.resolve(), onWritten: null };
}

// What a stored change touched, for the other tabs: classes, samples, head, settings, import.
function kindsOf(stored) {
  if (stored.replace) return ["classes", "samples", "head", "settings", "import"];
  const kinds = [];
  if (stored.classes) kinds.push("classes");
  if (stored.putSamples?.length || stored.deleteSamples?.length) kinds.push("samples");
  if (stored.head !== undefined) kinds.push("head");
  if (stored.settings !== undefined) kinds.push("settings");
  return kinds;
}

// Runs `task()` after every change queued before it; resolves or rejects with it.
export function enqueue({ services }, task) {
  const writer = services.writer;
  const turn = writer.queue.then(task);
  writer.queue = turn.catch(() => {});
  return turn;
}

// `plan(state)` returns {stored, show} or null (nothing to do): `stored` is Storage.change's
// argument ({classes, putSamples, deleteSamples, head, settings}) or {replace: {...}} for
// Storage.replaceAll; `show()` updates the state once that landed and returns the result. A plan
// may throw (a TeachkitError) when the state no longer allows the change. Without storage (the
// browser refused it) the change is only shown.
export function commit(context, plan) {
  return enqueue(context, async () => {
    const planned = plan(context.store.get());
    if (!planned) return undefined;
    const { stored, show } = planned;
    const storage = context.services.storage;
    if (storage) {
      try {
        await (stored.replace ? storage.replaceAll(stored.replace) : storage.change(stored));
      } catch (error) {
        throw new TeachkitError("storage", error.message);
      }
    }
    try {
      return show();
    } finally {
      if (storage) context.services.writer.onWritten?.(kindsOf(stored));
    }
  });
}
