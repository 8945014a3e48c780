// Named events for the API (`teachkit.on`): ready, samples, epoch, trained, prediction, error, notice.

export function createEvents() {
  const handlers = new Map(); // name → Set of handlers
  return {
    on(name, handler) {
      if (!handlers.has(name)) handlers.set(name, new Set());
      handlers.get(name).add(handler);
      return () => handlers.get(name)?.delete(handler);
    },
    emit(name, payload) {
      for (const handler of handlers.get(name) ?? []) {
        try {
          handler(payload);
        } catch (error) {
          // A listener's failure is its own; the page and the other listeners go on.
          console.error(error);
        }
      }
    },
  };
}
