// test_metrics.js: how a model does on a test set, from its answers alone.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  classMetrics,
  confusionMatrix,
  csvText,
  mistakesByConfidence,
  testReport,
  wilsonInterval,
} from "../../templates/app/learning/test_metrics.js";

const close = (actual, expected, what) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

test("the Wilson interval of 8 out of 10 is 0.490 to 0.943, and stays inside 0 to 1", () => {
  const [low, high] = wilsonInterval(8, 10);
  close(low, 0.4901624715366418, "low");
  close(high, 0.9433178485456248, "high");
  const [none, noneHigh] = wilsonInterval(0, 5);
  close(none, 0, "0 of 5, low");
  close(noneHigh, 0.43448246478317476, "0 of 5, high");
  const [allLow, all] = wilsonInterval(5, 5);
  close(allLow, 0.5655175352168251, "5 of 5, low");
  close(all, 1, "5 of 5, high");
  assert.deepEqual(wilsonInterval(0, 0), [null, null]);
});

const CLASSES = ["cat", "dog", "fox"];
const RESULTS = [
  { actual: "cat", predicted: "cat" },
  { actual: "cat", predicted: "dog" },
  { actual: "dog", predicted: "dog" },
  { actual: "dog", predicted: "dog" },
];

test("the confusion matrix has the actual class in rows and the predicted one in columns", () => {
  assert.deepEqual(confusionMatrix(CLASSES, RESULTS), [
    [1, 1, 0],
    [0, 2, 0],
    [0, 0, 0],
  ]);
});

test("precision, recall and F1 per class, null where there is nothing to measure", () => {
  const [cat, dog, fox] = classMetrics(confusionMatrix(CLASSES, RESULTS));
  assert.deepEqual(cat, { precision: 1, recall: 0.5, f1: 2 / 3, n: 2 });
  assert.deepEqual(dog, { precision: 2 / 3, recall: 1, f1: 0.8, n: 2 });
  assert.deepEqual(fox, { precision: null, recall: null, f1: null, n: 0 });
});

test("a report gives accuracy, its interval and the metrics by class name", () => {
  const report = testReport(CLASSES, RESULTS);
  assert.equal(report.accuracy, 0.75);
  assert.equal(report.correct, 3);
  assert.equal(report.count, 4);
  assert.deepEqual(report.interval, wilsonInterval(3, 4));
  assert.deepEqual(Object.keys(report.perClass), CLASSES);
  assert.deepEqual(report.classes, CLASSES);
  assert.equal(testReport(CLASSES, []).accuracy, null);
});

test("mistakes come surest first, and right answers are left out", () => {
  const items = [
    { name: "a", actual: "cat", predicted: "dog", confidence: 0.6 },
    { name: "b", actual: "cat", predicted: "cat", confidence: 0.99 },
    { name: "c", actual: "dog", predicted: "fox", confidence: 0.9 },
  ];
  assert.deepEqual(
    mistakesByConfidence(items).map((item) => item.name),
    ["c", "a"],
  );
});

test("the CSV quotes what needs quoting and defuses spreadsheet formulas", () => {
  const text = csvText(
    ["cat", "dog"],
    [
      { name: "=HYPERLINK(1).png", actual: "cat", predicted: "dog", confidences: { cat: 0.25, dog: 0.75 } },
      { name: 'a "b", c.png', actual: "dog", predicted: "dog", confidences: { cat: 0, dog: 1 } },
    ],
  );
  assert.equal(
    text,
    "file,actual,predicted,p_cat,p_dog\r\n" +
      "'=HYPERLINK(1).png,cat,dog,0.25,0.75\r\n" +
      '"a ""b"", c.png",dog,dog,0,1\r\n',
  );
});
