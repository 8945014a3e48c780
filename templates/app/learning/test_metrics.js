// How a trained model does on a test set, from its answers alone (pure functions, no DOM): the
// confusion matrix, accuracy with its 95 % Wilson score interval, precision, recall and F1 per
// class, the mistakes in order of confidence and the CSV of every answer.

// The two-sided 95 % quantile of the normal distribution.
const Z95 = 1.959963984540054;

// The Wilson score interval of `successes` out of `n`: unlike p ± z·√(p(1−p)/n) it stays inside
// [0, 1] and is honest for small n and for p near 0 or 1. [null, null] when n is 0.
export function wilsonInterval(successes, n, z = Z95) {
  if (!n) return [null, null];
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

// Rows are the actual class, columns the predicted one; `results` are [{actual, predicted}] by
// class name, `classes` the names in the model's order.
export function confusionMatrix(classes, results) {
  const index = new Map(classes.map((name, i) => [name, i]));
  const confusion = classes.map(() => new Array(classes.length).fill(0));
  for (const { actual, predicted } of results) confusion[index.get(actual)][index.get(predicted)] += 1;
  return confusion;
}

// Per class: precision (of the images predicted as the class, the share that are; null when none
// was), recall (of the class's images, the share predicted as it; null when it has none), F1 =
// 2·TP / (2·TP + FP + FN) (null when the class was neither actual nor predicted) and n, its images.
export function classMetrics(confusion) {
  return confusion.map((row, i) => {
    const truePositives = row[i];
    const n = row.reduce((sum, value) => sum + value, 0);
    const predicted = confusion.reduce((sum, other) => sum + other[i], 0);
    const falsePositives = predicted - truePositives;
    const falseNegatives = n - truePositives;
    const f1Denominator = 2 * truePositives + falsePositives + falseNegatives;
    return {
      precision: predicted ? truePositives / predicted : null,
      recall: n ? truePositives / n : null,
      f1: f1Denominator ? (2 * truePositives) / f1Denominator : null,
      n,
    };
  });
}

// {accuracy, interval: [low, high], correct, count, perClass: {name: {precision, recall, f1, n}},
// confusion, classes} for `results` ([{actual, predicted}]).
export function testReport(classes, results) {
  const confusion = confusionMatrix(classes, results);
  const correct = confusion.reduce((sum, row, i) => sum + row[i], 0);
  const count = results.length;
  const metrics = classMetrics(confusion);
  return {
    accuracy: count ? correct / count : null,
    interval: wilsonInterval(correct, count),
    correct,
    count,
    perClass: Object.fromEntries(classes.map((name, i) => [name, metrics[i]])),
    confusion,
    classes: [...classes],
  };
}

// The wrong answers, the most confident first (the surest mistakes say the most).
export function mistakesByConfidence(items) {
  return items.filter((item) => item.predicted !== item.actual).sort((a, b) => b.confidence - a.confidence);
}

// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). A text that a
// spreadsheet would run as a formula (a file named "=HYPERLINK(…).png") gets a leading "'".
function field(value) {
  const text = typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
export { field as csvField };

// `file,actual,predicted,p_<class>…` and one row per image, in the order tested.
export function csvText(classes, items) {
  const header = ["file", "actual", "predicted", ...classes.map((name) => `p_${name}`)];
  const rows = items.map((item) => [
    item.name,
    item.actual,
    item.predicted,
    ...classes.map((name) => item.confidences[name]),
  ]);
  return [header, ...rows].map((row) => row.map(field).join(",")).join("\r\n") + "\r\n";
}
