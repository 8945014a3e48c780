// The conditions most actions share, as `can` predicates: each returns a refusal or null.
import { refusal } from "./errors.js";

export function whenReady(state) {
  if (state.status === "loading") return refusal("not_ready", "The model is still loading; wait a moment.");
  if (state.status !== "ready")
    return refusal("not_ready", "The model could not be loaded; reload the page.");
  return null;
}

// Changing classes or samples while the head trains on them would mix two datasets.
export function whenIdle(state) {
  return (
    whenReady(state) ??
    (state.training.state === "training"
      ? refusal("busy", "Wait for training to finish, or stop it, before changing the classes.")
      : null)
  );
}

export function whenTrained(state) {
  return (
    whenReady(state) ??
    (state.head || state.openedModel
      ? null
      : refusal("not_trained", "Train the model before asking it about an image."))
  );
}
