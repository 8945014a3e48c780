// The test panel: a folder of test images (dropped, or chosen with "Choose a folder…") or images
// of one class, the test's progress and Stop, and the report: accuracy with its 95 % interval,
// precision, recall and F1 per class, the confusion matrix, the images the model got wrong (surest
// first) and the CSV of every answer.
import { csvText } from "../learning/test_metrics.js";
import { byActions, showNotice } from "./messages.js";
import { confusionTable } from "./confusion_table.js";
import { acceptDrops } from "./dropped_files.js";
import { byTestId, chooseFiles, downloadText, el, enable, hook, percent } from "./dom.js";

const OWN = byActions("evaluate", "evaluateFolder", "stopTest");
// The surest mistakes shown as pictures; the CSV has every answer.
const SHOWN_MISTAKES = 40;

// The classes of the model that answers, in its order.
function classNames(state) {
  if (state.openedModel) return [...state.openedModel.labels];
  const ids = state.headRecord?.classIds ?? state.dataset.classes.map((item) => item.id);
  return ids.map((id) => state.dataset.classById(id)?.name ?? "?");
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

function reportConfusion({ classes, confusion }) {
  return confusionTable({
    labels: classes,
    matrix: confusion,
    testid: "test-set-confusion",
    caption: "Test images: each row is the actual class, each column what the model predicted.",
  });
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
  acceptDrops(drop, (dropped) => dispatch("evaluateFolder", [dropped.files, dropped.folders]));

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
      el("div", { class: "scroll-box" }, reportConfusion(next)),
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          dataset: { testid: "test-set-csv" },
          onclick: () => downloadText(root, csvText(report.classes, report.items), "test-results.csv"),
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
