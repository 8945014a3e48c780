// The training settings, checked against the spec that the build derives from the project schema
// (builder/config.py, settings_spec): the bounds exist only there, and the page reads them here.
import { TeachkitError } from "./errors.js";

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function rangeWords(spec) {
  const { min, max, min_exclusive: minOpen, max_exclusive: maxOpen } = spec;
  if (min !== null && max !== null && !minOpen && !maxOpen) return `from ${min} to ${max}`;
  const lower = min === null ? null : minOpen ? `more than ${min}` : `at least ${min}`;
  const upper = max === null ? null : maxOpen ? `below ${max}` : `at most ${max}`;
  return [lower, upper].filter(Boolean).join(" and ");
}

function inRange(spec, value) {
  const { min, max, min_exclusive: minOpen, max_exclusive: maxOpen } = spec;
  if (min !== null && (minOpen ? value <= min : value < min)) return false;
  if (max !== null && (maxOpen ? value >= max : value > max)) return false;
  return true;
}

// Why `value` is not allowed for the setting `spec`, as a sentence, or null.
export function settingProblem(spec, value) {
  const range = rangeWords(spec);
  switch (spec.kind) {
    case "choice": {
      const values = spec.choices.map((choice) => choice.value);
      return values.includes(value) ? null : `${spec.label} must be one of ${values.join(", ")}.`;
    }
    case "integer":
      return Number.isInteger(value) && inRange(spec, value)
        ? null
        : `${spec.label} must be a whole number ${range}.`;
    case "number":
      return isNumber(value) && inRange(spec, value) ? null : `${spec.label} must be ${range}.`;
    case "integer_list": {
      if (!Array.isArray(value) || value.some((item) => !Number.isInteger(item) || !inRange(spec, item)))
        return `${spec.label} must be whole numbers ${range}, like 100 or 128, 64.`;
      return value.length <= spec.max_items
        ? null
        : `${spec.label} can have at most ${spec.max_items} layers.`;
    }
    default:
      return `${spec.label} is not a setting this page knows.`;
  }
}

// What a visitor typed, as the value the setting takes (NaN and friends are caught by the check).
export function parseInput(spec, text) {
  if (spec.kind === "choice") return text;
  if (spec.kind === "integer_list") {
    return text.trim()
      ? text
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number)
      : [];
  }
  return text.trim() === "" ? NaN : Number(text);
}

export function formatValue(value) {
  return Array.isArray(value) ? value.join(", ") : String(value);
}

// `current` with `change` ({head?: {...}, training?: {...}}) applied; throws a TeachkitError
// ("bad_setting") naming the first problem, so nothing half-applied is kept.
export function applySettings(specs, current, change) {
  const next = { head: { ...current.head }, training: { ...current.training } };
  for (const [section, values] of Object.entries(change ?? {})) {
    if (!(section in next) || typeof values !== "object" || values === null)
      throw new TeachkitError(
        "bad_setting",
        `"${section}" is not a settings section (use head or training).`,
      );
    for (const [key, value] of Object.entries(values)) {
      const spec = specs.find((item) => item.section === section && item.key === key);
      if (!spec) throw new TeachkitError("bad_setting", `${section}.${key} is not a setting of this page.`);
      const problem = settingProblem(spec, value);
      if (problem) throw new TeachkitError("bad_setting", problem);
      next[section][key] = value;
    }
  }
  return next;
}

// The settings a project file carries, keeping the current value wherever one is out of bounds
// (a file from another version of the page must not break this one): {settings, ignored: [name]}.
export function mergeKnownSettings(specs, current, carried) {
  const settings = { head: { ...current.head }, training: { ...current.training } };
  const ignored = [];
  for (const spec of specs) {
    const value = carried?.[spec.section]?.[spec.key];
    if (value === undefined) continue;
    if (settingProblem(spec, value)) ignored.push(spec.label);
    else settings[spec.section][spec.key] = value;
  }
  return { settings, ignored };
}

// The project's own settings: where a visitor's start.
export function projectSettings(project) {
  return { head: { ...project.head }, training: { ...project.training } };
}

// What the visitor changed from the project's settings, {head: {...}, training: {...}}: what is
// stored (null when nothing is changed).
export function settingChanges(project, settings) {
  const defaults = projectSettings(project);
  const changes = { head: {}, training: {} };
  let any = false;
  for (const section of ["head", "training"]) {
    for (const [key, value] of Object.entries(settings[section])) {
      if (JSON.stringify(value) === JSON.stringify(defaults[section][key])) continue;
      changes[section][key] = value;
      any = true;
    }
  }
  return any ? changes : null;
}
