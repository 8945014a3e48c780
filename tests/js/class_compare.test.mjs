// learning/class_compare.js: the numbers of the teacher's view, checked by hand (McNemar against
// exact binomial sums, Wilson against test_metrics.js, an ensemble small enough to add up).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compareCsv,
  compareResults,
  ensembleProbabilities,
  labelMap,
  mcnemarExact,
  mcnemarSentence,
  pText,
  sortTestFolder,
  spread,
  spreadSentence,
  submissionMetrics,
  whyNotComparable,
} from "../../templates/app/learning/class_compare.js";
import { wilsonInterval } from "../../templates/app/learning/test_metrics.js";

const close = (actual, expected, digits = 12) =>
  assert.ok(Math.abs(actual - expected) < 10 ** -digits, `${actual} ≠ ${expected}`);

test("McNemar's exact test is the two-sided binomial sum on the discordant pairs", () => {
  // 9 against 2: 2·(C(11,0) + C(11,1) + C(11,2)) / 2¹¹ = 2·67/2048.
  close(mcnemarExact(9, 2), 67 / 1024);
  close(mcnemarExact(2, 9), 67 / 1024);
  // 5 against 0: 2 / 2⁵.
  close(mcnemarExact(5, 0), 1 / 16);
  // 30 against 10: 2·Σ_{k≤10} C(40,k) / 2⁴⁰ = 305311533 / 2³⁷ (exact, from Python's fractions).
  close(mcnemarExact(30, 10), 305311533 / 2 ** 37);
  // Large counts stay finite (0.5¹¹⁴⁰ underflows a double): 600 against 540.
  close(mcnemarExact(600, 540), 0.08051743870793851, 9);
  assert.equal(mcnemarExact(0, 0), 1);
  assert.equal(mcnemarExact(1, 0), 1);
  assert.equal(mcnemarExact(4, 4), 1);
});

test("the McNemar sentence says the counts and the p-value in words", () => {
  const result = { onlyA: 9, onlyB: 2, p: mcnemarExact(9, 2) };
  assert.equal(
    mcnemarSentence(result, "A", "B"),
    "A was right on 9 images B got wrong, B on 2 the other way; a difference this lopsided " +
      "happens by chance with p = 0.065 if both models were equally good.",
  );
  assert.match(mcnemarSentence({ onlyA: 0, onlyB: 0, p: 1 }, "Ada", "Bo"), /exactly the same images.*p = 1/);
  assert.match(mcnemarSentence({ onlyA: 1, onlyB: 0, p: 1 }, "Ada", "Bo"), /right on 1 image Bo/);
  assert.equal(pText(0.0004), "p < 0.001");
  assert.equal(pText(0.5), "p = 0.5");
});

test("a model's metrics: Wilson's interval, recall and confusion by class name", () => {
  const classes = ["cat", "dog"];
  const truths = ["cat", "cat", "cat", "dog", "dog"];
  const predictions = ["cat", "dog", "cat", "dog", "cat"];
  const metrics = submissionMetrics(classes, truths, predictions);
  assert.equal(metrics.correct, 3);
  assert.equal(metrics.count, 5);
  close(metrics.accuracy, 0.6);
  assert.deepEqual(metrics.interval, wilsonInterval(3, 5));
  // Wilson's 3 of 5 by hand: (0.6 + z²/10 ± z·√(0.048 + z²/100)) / (1 + z²/5), z = 1.96.
  close(metrics.interval[0], 0.23072, 4);
  close(metrics.interval[1], 0.88236, 4);
  assert.deepEqual(metrics.perClass, {
    cat: { recall: 2 / 3, correct: 2, count: 3 },
    dog: { recall: 1 / 2, correct: 1, count: 2 },
  });
  assert.deepEqual(metrics.confusion, {
    labels: ["cat", "dog"],
    matrix: [
      [2, 1],
      [1, 1],
    ],
  });
});

test("the ensemble is the mean of its members' probabilities by class name, then the largest", () => {
  const classes = ["cat", "dog"];
  // Two images; the second member lists its classes the other way round.
  const a = [
    { cat: 0.9, dog: 0.1 },
    { cat: 0.4, dog: 0.6 },
  ];
  const b = [
    { dog: 0.7, cat: 0.3 },
    { dog: 0.2, cat: 0.8 },
  ];
  const mean = ensembleProbabilities(classes, [a, b]);
  close(mean[0].cat, 0.6);
  close(mean[0].dog, 0.4);
  close(mean[1].cat, 0.6);
  close(mean[1].dog, 0.4);
  const result = compareResults({
    classes,
    truths: ["dog", "cat"],
    members: [
      { id: "a", name: "Ada", probabilities: a },
      { id: "b", name: "Bo", probabilities: b },
    ],
    notComparable: [{ id: "c", name: "Cy", reason: "made with another base model than this page runs" }],
    ensembleIds: ["a", "b"],
  });
  // Ada: cat, dog (0 right); Bo: dog, cat (2 right); the ensemble: cat, cat (1 right).
  assert.deepEqual(
    result.items.map((item) => [item.name, item.correct, item.predictions]),
    [
      ["Ada", 0, ["cat", "dog"]],
      ["Bo", 2, ["dog", "cat"]],
    ],
  );
  assert.deepEqual(result.ensemble.predictions, ["cat", "cat"]);
  assert.equal(result.ensemble.correct, 1);
  assert.deepEqual(result.ensemble.ids, ["a", "b"]);
  assert.deepEqual(result.comparisons, [{ a: "a", b: "b", onlyA: 0, onlyB: 2, p: 0.5 }]);
  assert.deepEqual(result.spread, { median: 0.5, min: 0, max: 1, count: 2 });
  assert.equal(result.notComparable[0].name, "Cy");
  // Without chosen members there is no ensemble.
  assert.equal(compareResults({ classes, truths: ["dog", "cat"], members: [] }).ensemble, null);
});

test("the spread: median, min and max of the comparable accuracies", () => {
  assert.deepEqual(spread([0.9, 0.5, 0.7]), { median: 0.7, min: 0.5, max: 0.9, count: 3 });
  assert.deepEqual(spread([]), { median: null, min: null, max: null, count: 0 });
  assert.equal(
    spreadSentence(spread([0.9, 0.5, 0.7, 0.8]), 20),
    "4 models on the same 20 test images: median accuracy 75 %, from 50 % to 90 %.",
  );
});

test("comparable: the same base model and the same classes (case aside), else a reason", () => {
  const identity = { model_json_sha256: "abc" };
  const ok = { base: { model_json_sha256: "abc" }, labels: ["Grass", "brick"] };
  assert.equal(whyNotComparable(ok, identity, ["Brick", "Grass"]), null);
  assert.deepEqual(labelMap(["Grass", "brick"], ["Brick", "Grass"]), ["Grass", "Brick"]);
  assert.equal(
    whyNotComparable({ base: { model_json_sha256: "def" }, labels: ["Brick"] }, identity, ["Brick"]),
    "made with another base model than this page runs",
  );
  assert.equal(
    whyNotComparable({ ...ok, labels: ["cats", "dogs"] }, identity, ["Brick", "Grass"]),
    "its classes are cats, dogs; the test images' are Brick, Grass",
  );
  assert.match(
    whyNotComparable({ ...ok, labels: ["Brick"] }, identity, ["Brick", "Grass"]),
    /its classes are/,
  );
});

test("the table's CSV quotes the students' names (RFC 4180) and has the ensemble's row", () => {
  const classes = ["cat", "dog"];
  const result = compareResults({
    classes,
    truths: ["cat", "dog"],
    members: [
      {
        id: "a",
        name: 'Ada, "the best"',
        probabilities: [
          { cat: 1, dog: 0 },
          { cat: 0, dog: 1 },
        ],
      },
      {
        id: "b",
        name: "=cmd()",
        probabilities: [
          { cat: 1, dog: 0 },
          { cat: 1, dog: 0 },
        ],
      },
    ],
    ensembleIds: ["a", "b"],
  });
  const lines = compareCsv(classes, result).split("\r\n");
  assert.equal(lines[0], "name,correct,count,accuracy,interval_low,interval_high,recall_cat,recall_dog");
  const [low, high] = wilsonInterval(2, 2);
  assert.equal(lines[1], `"Ada, ""the best""",2,2,1,${low},${high},1,1`);
  assert.ok(lines[2].startsWith("'=cmd(),1,2,0.5,"), lines[2]);
  assert.ok(lines[3].startsWith("Ensemble,"), lines[3]);
  assert.equal(lines[4], "");
});

test("a folder of test images: the class is the folder an image is in", () => {
  const file = (type = "image/png") => ({ type });
  const sorted = sortTestFolder([
    { path: "Test/Grass/b.png", file: file() },
    { path: "Test/Brick/a.jpg", file: file("image/jpeg") },
    { path: "Test/Brick/.DS_Store", file: file("") },
    { path: "Test/Brick/notes.txt", file: file("text/plain") },
    { path: "Test/Grass/a.png", file: file() },
  ]);
  assert.deepEqual(sorted.classes, ["Brick", "Grass"]);
  assert.deepEqual(
    sorted.items.map((item) => [item.name, item.className]),
    [
      ["Brick/a.jpg", "Brick"],
      ["Grass/a.png", "Grass"],
      ["Grass/b.png", "Grass"],
    ],
  );
  assert.deepEqual(sorted.leftOut, { loose: 0, ignored: 1 });
  const plain = sortTestFolder([
    { path: "Brick/a.png", file: file() },
    { path: "loose.png", file: file() },
  ]);
  assert.deepEqual(plain.classes, ["Brick"]);
  assert.equal(plain.leftOut.loose, 1);
});
