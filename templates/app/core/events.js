// Named events. For the API (`teachkit.on`): ready, samples, epoch, trained, prediction, error,
// notice. Between features, which never import each other (the API's `on` does not pass them on):
// - "deleted" {text, removed}: classes or samples were deleted (undo offers to take it back);
// - "classes-changed" {reason, notify}: the classes changed under the trained head (training
//   forgets it, saying `reason` with the action's `notify`);
// - "head-found" {record}: a stored head may fit the classes again (training restores it if so);
// - "session-read" {saved, kinds}: the session shown was read from storage (training shows its
//   settings and head);
// - "session-replaced" {}: another tab changed the stored session (undo forgets the last delete);
// - "project-imported" {head, record, settings}: a project file replaced the session (training,
//   prediction and undo start over);
// - "baked-model" {record, samples}: the site's baked model is the page's (training adopts it);
// - "camera-stopped" {}: the visitor stopped the camera (live prediction stops).

export function createEvents() {
  const handlers = new Map(); // name → Set of handlers
  let failed = () => {};
  const fail = (error, name) => {
    console.error(error);
    failed(error, name);
  };
  return {
    on(name, handler) {
      if (!handlers.has(name)) handlers.set(name, new Set());
      handlers.get(name).add(handler);
      return () => handlers.get(name)?.delete(handler);
    },
    // `handler(error, name)` hears every listener that throws or rejects (feature_list.js tells
    // the visitor when it was a feature's reaction).
    onFailure(handler) {
      failed = handler;
    },
    emit(name, payload) {
      for (const handler of handlers.get(name) ?? []) {
        try {
          const result = handler(payload);
          if (result instanceof Promise) result.catch((error) => fail(error, name));
        } catch (error) {
          // A listener's failure does not stop the others.
          fail(error, name);
        }
      }
    },
  };
}
