// A page whose head predicts a number (head.type = "regression"): how a value is shown, and which
// value the samples about to be added get. The state is the regression feature's: `regression`
// (the project's [regression] table, null on a classifier's page) and `targetValue` (the slider).
import { TeachkitError } from "../core/errors.js";

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

export function checkedValue(spec, value) {
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
