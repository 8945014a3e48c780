// Whether the browser may delete what this page keeps. Browsers may clear a site's storage: Safari
// (WebKit) deletes it after 7 days without a visit, others when the disk fills up, and a private
// window when it closes. The page asks to keep it (navigator.storage.persist, where there is one)
// and, where that is refused or not offered, says once per browser that *Save project file* is the
// safe copy. Owns `persistence`: {persisted: true | false | null (not asked yet), hint}.

// The key under which the storage remembers that the hint was shown (Storage.remember).
const TOLD = "persistenceHintShown";

const HINT =
  "This browser may delete the examples it keeps for this page (Safari does after 7 days without a " +
  "visit, and a private window when it closes). Save project file keeps a safe copy: save one at the " +
  "end of each session.";

// Where the browser gave the page no storage at all (the notice at boot says why).
const NOTHING_KEPT =
  "This browser keeps nothing for this page: your examples are lost when it closes. Save project " +
  "file keeps a safe copy.";

// Firefox asks the visitor, who may take a while or never answer: the hint does not wait longer.
const ANSWER_WAIT_MS = 2000;

export function initialState() {
  return { persistence: { persisted: null, hint: null } };
}

// Resolves to true (kept), false (refused or not offered) or null (no answer yet); `later(kept)`
// hears an answer that comes after that. Absent outside a secure context and in old browsers, and
// it may reject (storage turned off): never an error.
async function askToPersist(later) {
  const manager = globalThis.navigator?.storage;
  try {
    if (await manager?.persisted?.()) return true;
    if (!manager?.persist) return false;
    const answer = manager.persist().then(Boolean, () => false);
    const waited = new Promise((resolve) => setTimeout(() => resolve(null), ANSWER_WAIT_MS));
    const first = await Promise.race([answer, waited]);
    if (first === null) answer.then(later);
    return first;
  } catch {
    return false;
  }
}

async function keepSafe({ store, services }) {
  const persisted = await askToPersist((kept) => {
    if (kept) store.set({ persistence: { persisted: true, hint: null } });
  });
  const told = persisted || (await services.storage.recall(TOLD).catch(() => false));
  store.set({ persistence: { persisted: persisted ?? false, hint: told ? null : HINT } });
  if (!told) await services.storage.remember(TOLD, true).catch(() => {});
}

// Asked once the visitor has something to keep (Firefox asks the visitor, which makes no sense on
// an empty page), in the background: a prompt left unanswered must not hold up the page.
export function start(context) {
  const { store, services, project } = context;
  if (project.page?.mode === "predict") return; // keeps nothing of its own
  if (!services.storage) {
    store.set({ persistence: { persisted: false, hint: NOTHING_KEPT } });
    return;
  }
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
