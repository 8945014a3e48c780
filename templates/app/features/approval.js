// The visitor's consent before a host page gets their images or embeddings: a prompt inside the
// page names the host's origin and what it asked for; nothing is handed over without "Allow".
// Owns `approval` ({id, origin, what} while a prompt is open).
import { newId } from "../learning/dataset.js";

export function initialState() {
  return { approval: null };
}

// Resolves to true (Allow) or false (Deny). Prompts come one at a time, in the order asked.
export function requestApproval(context, origin, what) {
  const { store, services } = context;
  const asked = (services.approvalQueue ?? Promise.resolve()).then(
    () =>
      new Promise((resolve) => {
        const id = newId();
        services.approvalAnswers.set(id, resolve);
        store.set({ approval: { id, origin, what } });
      }),
  );
  services.approvalQueue = asked.catch(() => {});
  return asked;
}

export const actions = {
  answerApproval: {
    can: () => null,
    run({ store, services }, id, allowed) {
      const answer = services.approvalAnswers.get(id);
      if (!answer) return;
      services.approvalAnswers.delete(id);
      store.set({ approval: null });
      answer(allowed === true);
    },
  },
};
