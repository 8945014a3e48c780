// The conditions most actions share, as `can` predicates that return a refusal or null, and the
// check of a class argument.
import { TeachkitError, refusal } from "./errors.js";

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

// For the actions that only make sense for classes (a test set by class folders, a Teachable
// Machine model, …).
export function classifierOnly(state, what) {
  return state.regression
    ? refusal("not_supported", `${what} is for classifiers; this page's model predicts a number.`)
    : null;
}

// The class an action names, which may have been deleted since the caller looked.
export function classById(dataset, id) {
  const item = dataset.classById(id);
  if (!item) throw new TeachkitError("unknown_class", "That class no longer exists.");
  return item;
}
