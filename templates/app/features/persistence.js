// Whether the browser may delete what this page keeps. Browsers may clear a site's storage: Safari
// (WebKit) deletes it after 7 days without a visit, others when the disk fills up, and a private
// window when it closes. The page asks to keep it (navigator.storage.persist, where there is one)
// and, where that is refused or not offered, says once per browser that *Save project file* is the
// safe copy. Owns `persistence`: {persisted: true | false | null (not asked yet), hint}.

// The key under which the storage remembers that the hint was shown (Storage.remember).
const TOLD = "persistenceHintShown";

export const HINT =
  "This browser may delete the examples it keeps for this page (Safari does after 7 days without a " +
  "visit, and a private window when it closes). Save project file keeps a safe copy: save one at the " +
  "end of each session.";

export function initialState() {
  return { persistence: { persisted: null, hint: null } };
}

// Absent outside a secure context and in old browsers; may reject (storage turned off): never an error.
async function askToPersist() {
  const manager = globalThis.navigator?.storage;
  try {
    if (await manager?.persisted?.()) return true;
    return Boolean(await manager?.persist?.());
  } catch {
    return false;
  }
}

async function keepSafe({ store, services }) {
  const persisted = await askToPersist();
  const told = persisted || (await services.storage.recall(TOLD).catch(() => false));
  store.set({ persistence: { persisted, hint: told ? null : HINT } });
  if (!told) await services.storage.remember(TOLD, true).catch(() => {});
}

// Asked once the visitor has something to keep (Firefox asks the visitor, which makes no sense on
// an empty page), in the background: a prompt left unanswered must not hold up the page.
export function start(context) {
  const { store, services } = context;
  if (!services.storage) return; // a prediction-only page, or storage refused (said at boot)
  const ask = () => keepSafe(context).catch(() => {});
  if (store.get().dataset.samples.length) {
    ask();
    return;
  }
  const stop = store.subscribe((state) => {
    if (!state.dataset.samples.length) return;
    stop();
    ask();
  });
}
