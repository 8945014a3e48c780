// Two tabs of one page stay consistent. After each stored change a tab posts what kind of thing
// changed (classes, samples, head, settings, import; never images) on a BroadcastChannel named
// after its storage; a tab that hears it reloads its state from IndexedDB once it is idle. While
// it trains or records it waits until that ends and says so; while it adds images it just waits.
// A tab never hears its own messages (BroadcastChannel does not deliver them to the sender, and
// each message names its tab), and a reload takes its turn in the queue of the tab's own writes
// (core/dataset_writes.js), so it never races one.
import { newId } from "../learning/dataset.js";
import { enqueue } from "../core/dataset_writes.js";

// What keeps this tab from reloading now: "training", "recording", "busy", "loading" or null.
function waitingFor(state) {
  if (state.status !== "ready") return "loading";
  if (state.training.state === "training") return "training";
  if (state.recordingClassId) return "recording";
  if (state.busy) return "busy";
  return null;
}

function catchUp(context) {
  const { sync } = context.services;
  if (sync.reloading || !sync.pending.size) return;
  const blocker = waitingFor(context.store.get());
  if (blocker) {
    if ((blocker === "training" || blocker === "recording") && !sync.told) {
      sync.told = true;
      context.notify(`This page was changed in another tab; this tab catches up when ${blocker} ends.`);
    }
    return;
  }
  const kinds = sync.pending;
  sync.pending = new Set();
  sync.told = false;
  sync.reloading = true;
  enqueue(context, async () => {
    if (["training", "recording"].includes(waitingFor(context.store.get()))) {
      for (const kind of kinds) sync.pending.add(kind); // started while this waited its turn
      return;
    }
    const saved = await context.services.storage.load();
    sync.reload(saved, kinds);
  })
    .catch((error) =>
      context.notify(`The changes from another tab could not be loaded: ${error.message}`, "error"),
    )
    .finally(() => {
      sync.reloading = false;
      catchUp(context); // whatever arrived meanwhile
    });
}

// Starts listening once the storage is open. `reload(saved, kinds)` shows what Storage.load read;
// `kinds` is the Set of what changed.
export function startSync(context, reload) {
  const { services, store, options } = context;
  const sync = { tab: newId(), channel: null, pending: new Set(), reloading: false, told: false, reload };
  services.sync = sync;
  if (!globalThis.BroadcastChannel) return;
  try {
    sync.channel = new BroadcastChannel(options.storeName);
  } catch {
    return; // e.g. a page whose origin may not have one: the tab still works on its own
  }
  sync.channel.onmessage = ({ data }) => {
    if (data?.tab === sync.tab || !Array.isArray(data?.kinds)) return;
    for (const kind of data.kinds) if (typeof kind === "string") sync.pending.add(kind);
    catchUp(context);
  };
  services.writer.onWritten = (kinds) => {
    if (kinds.length) sync.channel.postMessage({ tab: sync.tab, kinds });
  };
  // Training, recording or adding images ended: catch up with what was heard meanwhile.
  store.subscribe((state, previous) => {
    if (sync.pending.size && waitingFor(previous) && !waitingFor(state)) catchUp(context);
  });
}
