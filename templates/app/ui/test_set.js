// The test panel: a folder of test images (dropped, or chosen with "Choose a folder…") or images
// of one class, the test's progress and Stop, and the report: accuracy with its 95 % interval,
// precision, recall and F1 per class, the confusion matrix, the images the model got wrong (surest
// first) and the CSV of every answer.
import { csvText } from "../learning/test_metrics.js";
import { byActions, showNotice } from "./messages.js";
import { byTestId, chooseFiles, el, enable, percent } from "./dom.js";

const OWN = byActions("evaluate", "evaluateFolder", "stopTest");
// The surest mistakes shown as pictures; the CSV has every answer.
const SHOWN_MISTAKES = 40;

// A number for the data-* hooks: full precision, or "" when there is none.
function hook(value) {
  return value === null || value === undefined ? "" : String(value);
}

function entryFile(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

// Every file and folder under the dropped entries: {files: [{path, file}], folders: [path]}.
export async function readDropped(entries) {
  const files = [];
  const folders = [];
  async function walk(entry, path) {
    if (entry.isFile) {
      files.push({ path, file: await entryFile(entry) });
      return;
    }
    folders.push(path);
    const reader = entry.createReader();
    // A directory reader hands its entries out in batches (100 in Chromium) until it has none.
    for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
      for (const child of batch) await walk(child, `${path}/${child.name}`);
    }
  }
  for (const entry of entries) await walk(entry, entry.name);
  return { files, folders };
}

// The classes of the model that answers, in its order.
function classNames(state) {
  if (state.openedModel) return [...state.openedModel.labels];
  const ids = state.headRecord?.classIds ?? state.dataset.classes.map((item) => item.id);
  return ids.map((id) => state.dataset.classById(id)?.name ?? "?");
}

function download(root, text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const link = el("a", { href: url, download: name, hidden: true });
  root.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function perClassTable(report) {
  return el(
    "table",
    { dataset: { testid: "test-set-per-class" } },
    el(
      "caption",
      {},
      "Per class: precision (of the images it called this class, the share that were), recall (of this class's images, the share it found) and F1 (both in one)",
    ),
    el(
      "tr",
      {},
      ...["class", "precision", "recall", "F1", "n"].map((text) => el("th", { scope: "col" }, text)),
    ),
    ...report.classes.map((name) => {
      const { precision, recall, f1, n } = report.perClass[name];
      return el(
        "tr",
        {
          dataset: {
            className: name,
            precision: hook(precision),
            recall: hook(recall),
            f1: hook(f1),
            n: String(n),
          },
        },
        el("th", { scope: "row" }, name),
        el("td", {}, percent(precision)),
        el("td", {}, percent(recall)),
        el("td", {}, percent(f1)),
        el("td", {}, String(n)),
      );
    }),
  );
}

function confusionTable(report) {
  const { classes, confusion } = report;
  return el(
    "table",
    { dataset: { testid: "test-set-confusion", classes: String(classes.length) } },
    el("caption", {}, "Test images: each row is the actual class, each column what the model predicted."),
    el(
      "tr",
      {},
      el("th", { scope: "col" }, "actual \\ predicted"),
      ...classes.map((name) => el("th", { scope: "col" }, name)),
    ),
    ...confusion.map((row, i) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, classes[i]),
        ...row.map((value, j) =>
          el(
            "td",
            {
              dataset: { actual: classes[i], predicted: classes[j], count: String(value) },
              "aria-label": `${value} ${classes[i]} predicted as ${classes[j]}`,
              class: i === j ? "diagonal" : value ? "wrong" : "",
            },
            String(value),
          ),
        ),
      ),
    ),
  );
}

export function mountTestSet(root, { can, dispatch }) {
  const drop = byTestId(root, "test-set-drop");
  const folderInput = byTestId(root, "test-set-folder");
  const folderButton = byTestId(root, "test-set-choose-folder");
  const classSelect = byTestId(root, "test-set-class");
  const filesInput = byTestId(root, "test-set-files");
  const filesButton = byTestId(root, "test-set-choose-files");
  const stop = byTestId(root, "test-set-stop");
  const progress = byTestId(root, "test-set-progress");
  const message = byTestId(root, "test-set-message");
  const output = byTestId(root, "test-set-report");
  let urls = []; // the mistakes' thumbnails, revoked with the report they belong to
  let shownClasses = "";
  let report = null;

  chooseFiles(folderButton, folderInput, (files) =>
    dispatch("evaluateFolder", [
      files.map((file) => ({ path: file.webkitRelativePath || file.name, file })),
      [],
    ]),
  );
  chooseFiles(filesButton, filesInput, (files) => {
    const className = classSelect.value;
    dispatch("evaluate", [files.map((file) => ({ image: file, className, name: file.name }))]);
  });
  stop.addEventListener("click", () => dispatch("stopTest"));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("dragging");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("dragging");
    // The entries must be taken while the event is handled; reading them may come later.
    const entries = Array.from(event.dataTransfer?.items ?? [], (item) => item.webkitGetAsEntry?.()).filter(
      Boolean,
    );
    const dropped = entries.length
      ? await readDropped(entries)
      : {
          files: Array.from(event.dataTransfer?.files ?? [], (file) => ({ path: file.name, file })),
          folders: [],
        };
    dispatch("evaluateFolder", [dropped.files, dropped.folders]);
  });

  function showReport(next) {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    output.hidden = !next;
    if (!next) return output.replaceChildren();
    const [low, high] = next.interval;
    Object.assign(output.dataset, {
      count: String(next.count),
      correct: String(next.correct),
      accuracy: hook(next.accuracy),
      low: hook(low),
      high: hook(high),
      stopped: String(next.stopped),
    });
    const mistakes = next.mistakes.slice(0, SHOWN_MISTAKES).map((item) => {
      const url = URL.createObjectURL(item.thumb);
      urls.push(url);
      return el(
        "li",
        {
          dataset: {
            file: item.name,
            actual: item.actual,
            predicted: item.predicted,
            confidence: String(item.confidence),
          },
        },
        el(
          "figure",
          {},
          el("img", { src: url, alt: `${item.name}, a ${item.actual} image`, width: 64, height: 64 }),
          el(
            "figcaption",
            {},
            `${item.name}: ${item.actual}, taken for ${item.predicted} (${percent(item.confidence)})`,
          ),
        ),
      );
    });
    output.replaceChildren(
      el(
        "p",
        { class: "test-accuracy", dataset: { testid: "test-set-accuracy" } },
        `${next.stopped ? `Stopped after ${next.count} of ${next.total} images. ` : ""}` +
          `Accuracy on ${next.count} test images: ${percent(next.accuracy)} (${next.correct} right); ` +
          `95 % interval ${percent(low)} to ${percent(high)}.`,
      ),
      el("div", { class: "scroll-box" }, perClassTable(next)),
      el("div", { class: "scroll-box" }, confusionTable(next)),
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          dataset: { testid: "test-set-csv" },
          onclick: () => download(root, csvText(report.classes, report.items), "test-results.csv"),
        },
        "Download the answers (CSV)",
      ),
      el(
        "h3",
        {},
        next.mistakes.length
          ? `The ${next.mistakes.length} images it got wrong, the surest first`
          : "It got every test image right.",
      ),
      el("ul", { class: "test-mistakes", dataset: { testid: "test-set-mistakes" } }, ...mistakes),
      // replaceChildren, unlike el, would write a null as the text "null".
      ...(next.mistakes.length > SHOWN_MISTAKES
        ? [el("p", {}, `…and ${next.mistakes.length - SHOWN_MISTAKES} more, less sure: all are in the CSV.`)]
        : []),
    );
  }

  return (state, previous) => {
    const { testSet } = state;
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OWN);
    const refused = can("evaluate");
    for (const control of [folderButton, folderInput, filesButton, filesInput, classSelect])
      enable(control, refused);
    root.dataset.state = testSet.progress ? "running" : testSet.report ? "done" : "idle";
    stop.hidden = !testSet.progress;
    progress.hidden = !testSet.progress;
    if (testSet.progress) {
      progress.max = testSet.progress.total;
      progress.value = testSet.progress.done;
    }
    const names = classNames(state);
    if (names.join("\n") !== shownClasses) {
      const chosen = classSelect.value;
      classSelect.replaceChildren(...names.map((name) => el("option", { value: name }, name)));
      if (names.includes(chosen)) classSelect.value = chosen;
      shownClasses = names.join("\n");
    }
    if (testSet.report !== previous?.testSet.report) {
      report = testSet.report;
      showReport(report);
    }
  };
}
