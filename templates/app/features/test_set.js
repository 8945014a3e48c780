// A test set: images the model did not train on, each with its class, and how the model that
// answers "Try it" (the page's own, or one opened from the cloud) does on them. The images are
// embedded one after another through the page's embedder, the page gets a turn between two, and
// they are never added to the samples. Owns `testSet`: the progress while a test runs and the last
// report (kept until the page closes, never stored).
import { TeachkitError, refusal } from "../core/errors.js";
import { yieldToBrowser } from "../learning/head.js";
import { canvasJpeg, openImage } from "../media/images.js";
import { mistakesByConfidence, testReport } from "../learning/test_metrics.js";
import { classifierOnly, whenReady } from "../core/guards.js";
import { answeringModel } from "../learning/answering.js";
import { embedSource } from "../learning/sampling.js";

// What a folder may hold that is an image; anything else in it is left out and counted.
const IMAGE_FILE = /\.(jpe?g|png|gif|webp|bmp|avif)$/i;

export function initialState() {
  return { testSet: { progress: null, stopRequested: false, report: null } };
}

function setTestSet({ store }, change) {
  store.set({ testSet: { ...store.get().testSet, ...change } });
}

// The class names of the model that answers, in its order.
function answeringClasses(state) {
  const { head, name } = answeringModel(state);
  return head.classIds.map(name);
}

function quoted(names) {
  return names.map((name) => `"${name}"`).join(", ");
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function checkItems(state, items) {
  if (!Array.isArray(items)) return refusal("bad_argument", "evaluate() needs a list of {image, className}.");
  if (!items.length) return refusal("bad_argument", "Give at least one test image to evaluate.");
  const classes = answeringClasses(state);
  for (const item of items) {
    if (!item || typeof item !== "object" || !("image" in item))
      return refusal("bad_argument", "Each test image is {image, className}.");
    if (!classes.includes(item.className))
      return refusal(
        "unknown_class",
        `There is no class named "${item?.className}" (the classes: ${quoted(classes)}).`,
      );
  }
  return null;
}

// May a test run now? With `items`, also whether they are a test set of this model's classes.
function whenTestable(state, items) {
  return (
    whenReady(state) ??
    classifierOnly(state, "A test set sorted by class") ??
    (state.head || state.openedModel
      ? null
      : refusal("not_trained", "Train the model before testing it on other images.")) ??
    (state.training.state === "training"
      ? refusal("busy", "Wait for training to finish, or stop it, before testing the model.")
      : null) ??
    (state.testSet.progress ? refusal("busy", "A test is running; wait for it, or stop it.") : null) ??
    (items === undefined ? null : checkItems(state, items))
  );
}

// A small picture of a test image the model got wrong: its centre square, as the model saw it.
function thumbnail({ services }, source) {
  services.cropper.crop(source);
  const canvas = services.thumbCanvas;
  canvas.getContext("2d").drawImage(services.cropper.canvas, 0, 0, canvas.width, canvas.height);
  return canvasJpeg(canvas, 0.8);
}

function nameOf(item, index) {
  if (typeof item.name === "string" && item.name) return item.name;
  return item.image?.webkitRelativePath || item.image?.name || `image ${index + 1}`;
}

// A folder chosen or dropped: `files` [{path, file}] with paths from what was chosen ("Test/Grass/
// a.png") and `folders` every folder path seen (only a drop sees empty ones). Sub-folders are
// matched to the classes ignoring case; the one folder around them, if it is no class, is only the
// container. Returns {items: [{image, className, name}], leftOut: {unknown, empty, loose, ignored}}.
export function sortFolder(files, folders, classes) {
  const byLower = new Map(classes.map((name) => [name.normalize().toLowerCase(), name]));
  const classOf = (folder) => byLower.get(folder.normalize().toLowerCase()) ?? null;
  let entries = [
    ...files.map(({ path, file }) => ({ parts: path.split("/").filter(Boolean), file })),
    ...folders.map((path) => ({ parts: path.split("/").filter(Boolean), file: null })),
  ];
  const tops = new Set(entries.map((entry) => entry.parts[0]));
  const [top] = tops;
  if (tops.size === 1 && !classOf(top) && entries.some((entry) => entry.parts.length > 2 || !entry.file))
    entries = entries
      .map((entry) => ({ ...entry, parts: entry.parts.slice(1) }))
      .filter((e) => e.parts.length);
  const seen = new Map(); // folder → the number of images in it
  const items = [];
  let loose = 0;
  let ignored = 0;
  for (const { parts, file } of entries) {
    const folder = parts[0];
    if (!seen.has(folder) && (parts.length > 1 || !file)) seen.set(folder, 0);
    if (!file) continue;
    const name = parts.at(-1);
    if (name.startsWith(".")) continue; // the system's own files (.DS_Store)
    if (!IMAGE_FILE.test(name) && !file.type?.startsWith("image/")) {
      ignored += 1;
      continue;
    }
    if (parts.length === 1) {
      loose += 1;
      continue;
    }
    seen.set(folder, seen.get(folder) + 1);
    const className = classOf(folder);
    if (className) items.push({ image: file, className, name: parts.join("/") });
  }
  const unknown = [...seen.keys()].filter((folder) => !classOf(folder) && seen.get(folder) > 0);
  const empty = [...seen.keys()].filter((folder) => seen.get(folder) === 0);
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { items, leftOut: { unknown: unknown.sort(), empty: empty.sort(), loose, ignored } };
}

// What was left out of a folder, as a sentence ("" when nothing was).
export function describeLeftOut(leftOut, classes) {
  if (!leftOut) return "";
  const parts = [];
  if (leftOut.unknown.length)
    parts.push(
      `${leftOut.unknown.length === 1 ? "the folder" : "the folders"} ${quoted(leftOut.unknown)}: ` +
        `no class has that name (the classes: ${quoted(classes)})`,
    );
  if (leftOut.empty.length)
    parts.push(
      `${leftOut.empty.length === 1 ? "the folder" : "the folders"} ${quoted(leftOut.empty)}: no images in it`,
    );
  if (leftOut.loose) parts.push(`${plural(leftOut.loose, "image")} outside the class folders`);
  if (leftOut.ignored) parts.push(`${plural(leftOut.ignored, "file")} that are not images`);
  return parts.length ? `Left out ${parts.join("; ")}.` : "";
}

function percentText(value) {
  return `${Math.round(value * 100)} %`;
}

// The report as the API gives it: by class name, without the pictures of the mistakes.
export function describeReport(report) {
  if (!report) return null;
  return {
    accuracy: report.accuracy,
    interval: [...report.interval],
    correct: report.correct,
    count: report.count,
    perClass: structuredClone(report.perClass),
    confusion: report.confusion.map((row) => [...row]),
    classes: [...report.classes],
    items: report.items.map(({ name, actual, predicted, confidence, confidences }) => ({
      name,
      actual,
      predicted,
      confidence,
      confidences: { ...confidences },
    })),
    problems: [...report.problems],
    stopped: report.stopped,
    total: report.total,
  };
}

// Tests `items` ([{image, className, name?}], already checked) one image after another.
async function runTest(context, items, leftOut = null) {
  const { store, notify } = context;
  const model = answeringModel(store.get());
  const { head } = model;
  const classes = head.classIds.map(model.name);
  const changed = () => answeringModel(store.get()).head !== head;
  const results = [];
  const problems = [];
  let stopped = false;
  setTestSet(context, { progress: { done: 0, total: items.length }, stopRequested: false });
  try {
    for (const [index, item] of items.entries()) {
      if (store.get().testSet.stopRequested) {
        stopped = true;
        break;
      }
      const name = nameOf(item, index);
      let opened;
      try {
        opened = await openImage(item.image, index);
      } catch (error) {
        problems.push(error.message);
        continue;
      }
      try {
        let embedding;
        try {
          embedding = await embedSource(context, opened.source);
        } catch (error) {
          problems.push(`"${name}" could not be tested: ${error.message}`);
          continue;
        }
        // Trained again, forgotten or another model opened meanwhile: this head is gone.
        if (changed()) throw new TeachkitError("failed", "The model changed during the test; test it again.");
        const probabilities = head.predict(embedding);
        const confidences = Object.fromEntries(classes.map((className, i) => [className, probabilities[i]]));
        let best = 0;
        probabilities.forEach((p, i) => (best = p > probabilities[best] ? i : best));
        const result = {
          name,
          actual: item.className,
          predicted: classes[best],
          confidence: probabilities[best],
          confidences,
          thumb: null,
        };
        if (result.predicted !== result.actual) result.thumb = thumbnail(context, opened.source);
        results.push(result);
      } finally {
        opened.close();
        setTestSet(context, { progress: { done: index + 1, total: items.length } });
      }
      await yieldToBrowser(); // the page stays responsive, even with the model on the page
    }
  } finally {
    setTestSet(context, { progress: null, stopRequested: false });
  }
  if (!results.length)
    throw new TeachkitError(
      stopped ? "failed" : "bad_image",
      stopped ? "Stopped before any image was tested." : `No image could be tested. ${problems.join(" ")}`,
    );
  const report = {
    ...testReport(classes, results),
    items: results,
    mistakes: mistakesByConfidence(results),
    problems,
    stopped,
    total: items.length,
    leftOut,
  };
  setTestSet(context, { report });
  const [low, high] = report.interval;
  notify(
    [
      `${stopped ? "Stopped: tested" : "Tested"} ${plural(report.count, "image")}` +
        `${stopped ? ` of ${items.length}` : ""}: ${report.correct} right, ${percentText(report.accuracy)} ` +
        `(95 % interval ${percentText(low)} to ${percentText(high)}).`,
      describeLeftOut(leftOut, classes),
      problems.join(" "),
    ]
      .filter(Boolean)
      .join(" "),
    problems.length ? "error" : "info",
  );
  return describeReport(report);
}

export const actions = {
  // `items` [{image, className, name?}]: image as addImages takes them, className one of the
  // answering model's classes, name (for the report and CSV) defaults to the file's name. Resolves
  // to the report (describeReport). Never adds a sample.
  evaluate: {
    can: whenTestable,
    run: (context, items) => runTest(context, items),
  },

  // The panel's folder (chosen or dropped): sorted into classes by sub-folder (sortFolder), what
  // was left out said by name, then tested like evaluate().
  evaluateFolder: {
    can: (state) => whenTestable(state),
    async run(context, files, folders = []) {
      const classes = answeringClasses(context.store.get());
      const { items, leftOut } = sortFolder(Array.from(files ?? []), Array.from(folders ?? []), classes);
      const left = describeLeftOut(leftOut, classes);
      if (!items.length)
        throw new TeachkitError(
          "bad_argument",
          `No test images here: put them in sub-folders named like the classes (${quoted(classes)}). ${left}`.trim(),
        );
      context.notify(`Testing ${plural(items.length, "image")}… ${left}`.trim());
      return runTest(context, items, leftOut);
    },
  },

  // Ends a running test after the current image; the report covers the images tested so far.
  stopTest: {
    can: () => null,
    run(context) {
      if (context.store.get().testSet.progress) setTestSet(context, { stopRequested: true });
    },
  },
};
