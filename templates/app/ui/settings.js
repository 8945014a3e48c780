// The Advanced settings, generated from the settings spec the build derives from the project
// schema: one control per setting, with its bounds, step and help. Values are checked by the
// training feature against the same spec; a refused value springs back to the one in force.
import { formatValue, parseInput } from "../core/settings.js";
import { changed, el, enable } from "./dom.js";

// A classifier's page offers the classifier heads; a regression head needs a page built for numbers.
const FOR_NUMBERS = "regression";

function control(spec) {
  const testid = `setting-${spec.key}`;
  if (spec.kind === "choice") {
    const choices = spec.choices.filter((choice) => !(spec.key === "type" && choice.value === FOR_NUMBERS));
    return el(
      "select",
      { dataset: { testid } },
      ...choices.map((choice) => el("option", { value: choice.value }, choice.label)),
    );
  }
  if (spec.kind === "integer_list")
    return el("input", { type: "text", inputmode: "numeric", dataset: { testid } });
  const bounds = {};
  if (spec.min !== null) bounds.min = String(spec.min);
  if (spec.max !== null) bounds.max = String(spec.max);
  return el("input", { type: "number", step: String(spec.step), ...bounds, dataset: { testid } });
}

export function mountSettings(root, { state, can, dispatch }) {
  const specs = state.settingSpecs;
  const inputs = specs.map((spec) => ({ spec, input: control(spec) }));
  let latest = state;

  function show(settings) {
    for (const { spec, input } of inputs) {
      const text = formatValue(settings[spec.section][spec.key]);
      if (input.value !== text) input.value = text;
    }
    const knn = settings.head.type === "knn";
    for (const label of root.querySelectorAll("[data-head]"))
      label.hidden = (label.dataset.head === "knn") !== knn;
  }

  root.replaceChildren(
    ...inputs.map(({ spec, input }) => {
      input.addEventListener("change", async () => {
        await dispatch("changeSettings", [{ [spec.section]: { [spec.key]: parseInput(spec, input.value) } }]);
        show(latest.settings); // the new value, or the previous one if it was refused
      });
      const helpId = `setting-help-${spec.key}`;
      input.setAttribute("aria-describedby", helpId);
      const field = el(
        "div",
        { class: "setting" },
        el("label", {}, spec.label, " ", input),
        el("small", { id: helpId }, spec.help),
      );
      if (spec.head) field.dataset.head = spec.head;
      // A regression page's head is always a regression head: nothing to choose.
      field.hidden = Boolean(state.regression) && spec.section === "head" && spec.key === "type";
      return field;
    }),
  );

  return (current, previous) => {
    latest = current;
    if (current.settings !== previous?.settings) show(current.settings);
    if (changed(current, previous, ["status", "training"]))
      for (const { input } of inputs) enable(input, can("changeSettings"));
  };
}
