// Failures that reach a caller of the API carry a stable `code` and a plain message. The codes are
// part of the public API (docs/embedding.md, the list after the API table): add new ones, never rename one.

export const ERROR_CODES = [
  "not_ready", // the model is still loading, or failed to load
  "busy", // training or recording is running
  "no_samples", // a class has no samples to train on
  "not_trained", // predicting needs a trained model
  "unknown_class", // no class has that name
  "bad_name", // a class name that is empty, too long or taken
  "bad_image", // not an image this browser can read
  "bad_setting", // a training setting outside its bounds
  "bad_project_file", // an imported project file that is damaged or foreign
  "bad_argument", // a call with the wrong kind of argument
  "camera", // the camera could not be started
  "storage", // the browser's storage refused a write
  "forbidden", // the visitor denied a host page's request
  "no_connection", // embed.js: the page in the iframe did not answer this host
  "cloud_unreachable", // the cloud receiver is offline, down or did not answer in time: try again
  "cloud_refused", // the cloud receiver answered with an error (its message says why)
  "other_base_model", // a model made with another base model than this page runs
  "not_supported", // what this page's kind of model does not do (e.g. a test set by class on a regression page)
  "failed", // anything else, with the reason in the message
  "unknown_class_code", // a hand-in, or the teacher's list, for a class code the receiver does not know
  "class_closed", // a hand-in to a class that no longer takes them
  "name_taken", // a hand-in under a name another student in the class handed in under
  "no_token", // the teacher's list of a class needs its teacher token
  "wrong_token", // the teacher token is not the class's
];

export class TeachkitError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "TeachkitError";
    this.code = code;
  }
}

// What an action's `can` returns when it may not run now.
export function refusal(code, message) {
  return { code, message };
}

export function asTeachkitError(error) {
  if (error instanceof TeachkitError) return error;
  return new TeachkitError("failed", error?.message ?? String(error));
}
