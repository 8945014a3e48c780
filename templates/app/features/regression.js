// A page whose head predicts a number (head.type = "regression"): what the number is (the project's
// [regression] table) and the slider's value, which the next samples get — one value per upload or
// per held record button. Owns `regression` (null on a classifier's page) and `targetValue`.
import { TeachkitError, refusal } from "../core/errors.js";

export function initialState(project) {
  const spec = project.regression;
  return { regression: spec ?? null, targetValue: spec ? spec.min : null };
}

// The value as the page shows it: rounded to what the slider's range can tell apart, with the unit.
export function formatValue(spec, value) {
  const digits = Math.max(0, Math.min(6, 2 - Math.floor(Math.log10(spec.max - spec.min))));
  const number = value.toFixed(digits);
  return spec.unit ? `${number} ${spec.unit}` : number;
}

// The slider's step: about a hundredth of the range, rounded to a power of ten.
export function sliderStep(spec) {
  return 10 ** Math.floor(Math.log10((spec.max - spec.min) / 100));
}

function checkedValue(spec, value) {
  if (typeof value !== "number" || !Number.isFinite(value) || value < spec.min || value > spec.max)
    throw new TeachkitError(
      "bad_argument",
      `${spec.label} must be a number from ${spec.min} to ${spec.max}${spec.unit ? ` ${spec.unit}` : ""}.`,
    );
  return value;
}

// The value the samples about to be added get: `given` (checked), or the slider's. A classifier's
// samples have none, and giving one is a mistake worth saying.
export function sampleValue(state, given) {
  if (!state.regression) {
    if (given !== undefined)
      throw new TeachkitError(
        "bad_argument",
        "This page's samples are classes, not numbers: leave out value.",
      );
    return undefined;
  }
  return given === undefined ? state.targetValue : checkedValue(state.regression, given);
}

// For the actions that only make sense for classes (a test set by class folders, a Teachable
// Machine model, …).
export function classifierOnly(state, what) {
  return state.regression
    ? refusal("not_supported", `${what} is for classifiers; this page's model predicts a number.`)
    : null;
}

export const actions = {
  // The number the next samples get.
  setTargetValue: {
    can: (state) =>
      state.regression ? null : refusal("not_supported", "This page's samples are classes, not numbers."),
    run({ store }, value) {
      const targetValue = checkedValue(store.get().regression, value);
      store.set({ targetValue });
      return targetValue;
    },
  },
};
