// The one state object of the page. Every feature owns some of its keys (its slice); views render
// from it. A change replaces the object, so a view can tell what changed by comparing references.

export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    // `change` is a partial state, or a function of the current state that returns one.
    set(change) {
      const previous = state;
      state = { ...state, ...(typeof change === "function" ? change(state) : change) };
      for (const listener of listeners) listener(state, previous);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
