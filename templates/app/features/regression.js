// A page whose head predicts a number (head.type = "regression"): what the number is (the project's
// [regression] table) and the slider's value, which the next samples get — one value per upload or
// per held record button (learning/values.js). Owns `regression` (null on a classifier's page) and
// `targetValue`.
import { refusal } from "../core/errors.js";
import { checkedValue } from "../learning/values.js";

export function initialState(project) {
  const spec = project.regression;
  return { regression: spec ?? null, targetValue: spec ? spec.min : null };
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
