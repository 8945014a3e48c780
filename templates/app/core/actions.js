// The seam every control goes through: buttons, keyboard, window.teachkit and host pages alike.
// An action is {run(context, ...args), can(state, ...args) → refusal | null}; `can` is the one
// answer to "may this run now?", for a button's `disabled` and for an API call's error.
import { TeachkitError, asTeachkitError } from "./errors.js";

export function createActions(context) {
  const registry = new Map();

  function can(name, ...args) {
    const action = registry.get(name);
    if (!action) throw new Error(`no action named ${name}`);
    return action.can?.(context.store.get(), ...args) ?? null;
  }

  // Runs the action for `source` ("ui", "api" or "host"). A refusal or failure becomes a message
  // on the page; callers from the API also get it as a rejected TeachkitError.
  async function dispatch(name, args = [], { source = "api" } = {}) {
    // The action's messages say which action (and class) they come from, so that the page can
    // show them next to the control that caused them.
    const about = { action: name, subject: typeof args[0] === "string" ? args[0] : null };
    const notify = (text, kind = "info") => context.notify(text, kind, about);
    try {
      const refused = can(name, ...args);
      if (refused) throw new TeachkitError(refused.code, refused.message);
      return await registry.get(name).run({ ...context, notify }, ...args);
    } catch (raw) {
      const error = asTeachkitError(raw);
      notify(error.message, "error");
      context.events.emit("error", { code: error.code, message: error.message, action: name });
      if (source === "ui") return undefined;
      throw error;
    }
  }

  function register(actions) {
    for (const [name, action] of Object.entries(actions)) {
      if (registry.has(name)) throw new Error(`action ${name} is registered twice`);
      registry.set(name, action);
    }
  }

  return { can, dispatch, register };
}
