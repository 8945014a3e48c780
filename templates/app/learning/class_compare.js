// A class's models compared on the teacher's test images, from their answers alone (pure
// functions, no DOM, no store): each model's accuracy with its Wilson 95 % interval, recall per
// class and confusion matrix (learning/test_metrics.js), McNemar's exact test for every pair, the
// ensemble (the mean of the members' probabilities by class name), the class's spread in one line,
// and the table as CSV.
import { csvField, testReport } from "./test_metrics.js";

// What a folder may hold that is an image; anything else in it is left out and counted.
const IMAGE_FILE = /\.(jpe?g|png|gif|webp|bmp|avif)$/i;

function byName(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// The teacher's folder of test images, one sub-folder per class: `files` [{path, file}] with paths
// as chosen or dropped ("Test/Grass/a.png"). The class of an image is the folder it is in, so the
// one folder around the class folders may be there or not. Returns {items: [{image, className,
// name}], classes (sorted), leftOut: {loose, ignored}}: loose images lie outside any class folder.
export function sortTestFolder(files) {
  const entries = files.map(({ path, file }) => ({ parts: String(path).split("/").filter(Boolean), file }));
  const depth = Math.min(...entries.map((entry) => entry.parts.length));
  // Every image two folders deep or more: the top folder is only the container.
  const skip = entries.length && depth >= 3 && new Set(entries.map((e) => e.parts[0])).size === 1 ? 1 : 0;
  const items = [];
  let loose = 0;
  let ignored = 0;
  for (const { parts: all, file } of entries) {
    const parts = all.slice(skip);
    const name = parts.at(-1) ?? "";
    if (name.startsWith(".")) continue; // the system's own files (.DS_Store)
    if (!IMAGE_FILE.test(name) && !file?.type?.startsWith("image/")) {
      ignored += 1;
      continue;
    }
    if (parts.length < 2) {
      loose += 1;
      continue;
    }
    items.push({ image: file, className: parts.at(-2).normalize(), name: parts.join("/") });
  }
  items.sort((a, b) => byName(a.name, b.name));
  const classes = [...new Set(items.map((item) => item.className))].sort(byName);
  return { items, classes, leftOut: { loose, ignored } };
}

// The test's classes, in the order first seen, from [{className}].
export function testClasses(images) {
  return [...new Set(images.map((item) => item.className))];
}

const fold = (name) => String(name).normalize().toLowerCase();

// Each of the model's labels to the test class of that name (case ignored), or null when the two
// sets of classes differ.
export function labelMap(labels, classes) {
  const byFolded = new Map(classes.map((name) => [fold(name), name]));
  const mapped = labels.map((label) => byFolded.get(fold(label)) ?? null);
  const same =
    mapped.every(Boolean) &&
    new Set(mapped).size === classes.length &&
    new Set(labels).size === labels.length;
  return same ? mapped : null;
}

function listed(names) {
  return names.join(", ");
}

// Why a submission cannot be compared on these test images, or null when it can: made with another
// base model (`describe(base)` says which), or with other classes than the test's.
export function whyNotComparable(metadata, identity, classes, describe = () => "") {
  if (metadata?.base?.model_json_sha256 !== identity.model_json_sha256) {
    const theirs = describe(metadata?.base);
    return `made with another base model${theirs ? ` (${theirs})` : ""} than this page runs`;
  }
  if (!Array.isArray(metadata?.labels) || !labelMap(metadata.labels, classes))
    return `its classes are ${listed(metadata?.labels ?? [])}; the test images' are ${listed(classes)}`;
  return null;
}

function argmax(values) {
  let best = 0;
  values.forEach((value, i) => (best = value > values[best] ? i : best));
  return best;
}

// One model's (or the ensemble's) answers on the test: `truths` and `predictions` are class names,
// one per image. {accuracy, interval, correct, count, perClass: {name: {recall, correct, count}},
// confusion: {labels, matrix}}.
export function submissionMetrics(classes, truths, predictions) {
  const report = testReport(
    classes,
    truths.map((actual, i) => ({ actual, predicted: predictions[i] })),
  );
  const perClass = Object.fromEntries(
    classes.map((name, i) => [
      name,
      {
        recall: report.perClass[name].recall,
        correct: report.confusion[i][i],
        count: report.perClass[name].n,
      },
    ]),
  );
  return {
    accuracy: report.accuracy,
    interval: report.interval,
    correct: report.correct,
    count: report.count,
    perClass,
    confusion: { labels: [...classes], matrix: report.confusion },
  };
}

// The predicted class of each image from its probabilities ({className: p} per image).
export function predictionsOf(classes, probabilities) {
  return probabilities.map((byClass) => classes[argmax(classes.map((name) => byClass[name] ?? 0))]);
}

// The ensemble's probabilities: per image, the mean over the members of each class's probability
// (by class name, so members may order their classes differently).
export function ensembleProbabilities(classes, members) {
  if (!members.length) return [];
  return members[0].map((_, image) =>
    Object.fromEntries(
      classes.map((name) => [
        name,
        members.reduce((sum, member) => sum + (member[image][name] ?? 0), 0) / members.length,
      ]),
    ),
  );
}

// ln C(n, k) for k = 0 … n.
function logChoose(n) {
  const out = [0];
  for (let k = 0; k < n; k += 1) out.push(out[k] + Math.log(n - k) - Math.log(k + 1));
  return out;
}

// McNemar's exact test: of the images only one of two models got right (onlyA for the first, onlyB
// for the second), is the split more lopsided than chance? Two-sided binomial test of onlyA out of
// onlyA + onlyB with p = ½; 1 when no image tells them apart.
export function mcnemarExact(onlyA, onlyB) {
  const n = onlyA + onlyB;
  if (n === 0) return 1;
  const k = Math.min(onlyA, onlyB);
  const logs = logChoose(n);
  let tail = 0;
  for (let i = 0; i <= k; i += 1) tail += Math.exp(logs[i] - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

// The pair's counts and test: {a, b, onlyA, onlyB, p} for models a and b (ids), each with its
// predictions, against `truths`.
export function comparePair(truths, a, b) {
  let onlyA = 0;
  let onlyB = 0;
  truths.forEach((truth, i) => {
    const rightA = a.predictions[i] === truth;
    const rightB = b.predictions[i] === truth;
    if (rightA && !rightB) onlyA += 1;
    if (rightB && !rightA) onlyB += 1;
  });
  return { a: a.id, b: b.id, onlyA, onlyB, p: mcnemarExact(onlyA, onlyB) };
}

// A p-value as a reader takes it: two significant digits, and "< 0.001" below that.
export function pText(p) {
  if (p >= 1) return "p = 1";
  if (p < 0.001) return "p < 0.001";
  return `p = ${Number(p.toPrecision(2))}`;
}

function images(count) {
  return `${count} image${count === 1 ? "" : "s"}`;
}

// The one sentence of a McNemar result, for two models named `nameA` and `nameB`.
export function mcnemarSentence({ onlyA, onlyB, p }, nameA, nameB) {
  if (onlyA + onlyB === 0)
    return (
      `${nameA} and ${nameB} were right on exactly the same images, so these test images cannot ` +
      "tell them apart (p = 1)."
    );
  return (
    `${nameA} was right on ${images(onlyA)} ${nameB} got wrong, ${nameB} on ${onlyB} the other way; ` +
    `a difference this lopsided happens by chance with ${pText(p)} if both models were equally good.`
  );
}

function median(sorted) {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// The class's spread: {median, min, max, count} of the comparable models' accuracies.
export function spread(accuracies) {
  const sorted = accuracies.filter((value) => typeof value === "number").sort((a, b) => a - b);
  if (!sorted.length) return { median: null, min: null, max: null, count: 0 };
  return { median: median(sorted), min: sorted[0], max: sorted.at(-1), count: sorted.length };
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`;
}

// The spread in one line, above the table.
export function spreadSentence({ median: middle, min, max, count }, images) {
  if (!count) return "No model of the class could be compared on these test images.";
  return (
    `${count} model${count === 1 ? "" : "s"} on the same ${images} test images: median accuracy ` +
    `${percent(middle)}, from ${percent(min)} to ${percent(max)}.`
  );
}

// Everything compareSubmissions answers, from the answers gathered: `classes` the test's classes,
// `truths` one class name per image, `members` [{id, name, probabilities: [{className: p}]}] (the
// comparable submissions), `notComparable` [{id, name, reason}], `ensembleIds` the members of the
// ensemble (null: none).
export function compareResults({ classes, truths, members, notComparable = [], ensembleIds = null }) {
  const items = members.map(({ id, name, probabilities }) => {
    const predictions = predictionsOf(classes, probabilities);
    return { id, name, comparable: true, ...submissionMetrics(classes, truths, predictions), predictions };
  });
  const comparisons = [];
  for (let i = 0; i < items.length; i += 1)
    for (let j = i + 1; j < items.length; j += 1) comparisons.push(comparePair(truths, items[i], items[j]));
  let ensemble = null;
  const chosen = ensembleIds ? members.filter((member) => ensembleIds.includes(member.id)) : [];
  if (chosen.length) {
    const probabilities = ensembleProbabilities(
      classes,
      chosen.map((member) => member.probabilities),
    );
    const predictions = predictionsOf(classes, probabilities);
    ensemble = {
      ids: chosen.map((member) => member.id),
      ...submissionMetrics(classes, truths, predictions),
      predictions,
    };
  }
  return {
    items,
    notComparable: notComparable.map(({ id, name, reason }) => ({ id, name, reason })),
    ensemble,
    comparisons,
    spread: spread(items.map((item) => item.accuracy)),
  };
}

// The table as CSV: one row per model and one for the ensemble (when there is one): name, correct,
// count, accuracy, the interval's ends and each class's recall. Names are the students' own text,
// quoted as RFC 4180 says (and kept from running as spreadsheet formulas).
export function compareCsv(classes, result, ensembleName = "Ensemble") {
  const header = [
    "name",
    "correct",
    "count",
    "accuracy",
    "interval_low",
    "interval_high",
    ...classes.map((name) => `recall_${name}`),
  ];
  const row = (name, item) => [
    name,
    item.correct,
    item.count,
    item.accuracy ?? "",
    item.interval[0] ?? "",
    item.interval[1] ?? "",
    ...classes.map((className) => item.perClass[className]?.recall ?? ""),
  ];
  const rows = result.items.map((item) => row(item.name, item));
  if (result.ensemble) rows.push(row(ensembleName, result.ensemble));
  return [header, ...rows].map((cells) => cells.map(csvField).join(",")).join("\r\n") + "\r\n";
}
