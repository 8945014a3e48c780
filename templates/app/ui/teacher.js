// The teacher's view (?teacher): the class's code and token (kept in this browser only if ticked),
// the submissions, a folder of test images (dropped or chosen, like the test panel's), Compare with
// progress and Stop, then the spread line above a sortable table of every comparable model
// (accuracy with its n and 95 % interval, recall per class, a confusion matrix per row), McNemar's
// sentence for the two rows picked, the ensemble of the rows ticked, one image through every
// model, the CSV, and the models that could not be compared with the reason.
import { compareCsv, mcnemarSentence, sortTestFolder, spreadSentence } from "../learning/class_compare.js";
import { byActions, showNotice } from "./messages.js";
import { byTestId, chooseFiles, downloadText, el, enable, hook, percent } from "./dom.js";
import { acceptDrops } from "./dropped_files.js";
import { comparisonTable, plural } from "./teacher_table.js";

const OWN = byActions(
  "classSubmissions",
  "compareSubmissions",
  "stopComparison",
  "chooseEnsemble",
  "runImageThroughAll",
);

// Whether the page shows the teacher's view: asked for (?teacher) and built with a cloud. Asked
// for without one, the page says so above the normal page.
export function teacherMode(root, requested) {
  if (!requested) return false;
  const section = root.querySelector('[data-view="teacher"]');
  if (section) {
    root.dataset.teacher = "";
    section.hidden = false;
    return true;
  }
  const note = el(
    "p",
    { class: "area-message", dataset: { testid: "teacher-unavailable", kind: "error" } },
    "This page has no class features (its project has no [cloud] url), so there is no teacher's view here: this is the normal page.",
  );
  root.querySelector(".site-header")?.after(note);
  return false;
}

export function mountTeacher(root, { can, dispatch }) {
  const form = byTestId(root, "teacher-form");
  const code = byTestId(root, "teacher-code");
  const token = byTestId(root, "teacher-token");
  const rememberBox = byTestId(root, "teacher-remember");
  const load = byTestId(root, "teacher-load");
  const message = byTestId(root, "teacher-message");
  const classBox = byTestId(root, "teacher-class");
  const title = byTestId(root, "teacher-title");
  const list = byTestId(root, "teacher-submissions");
  const drop = byTestId(root, "teacher-drop");
  const folderButton = byTestId(root, "teacher-choose-folder");
  const folderInput = byTestId(root, "teacher-folder");
  const imagesText = byTestId(root, "teacher-images");
  const compare = byTestId(root, "teacher-compare");
  const progress = byTestId(root, "teacher-progress");
  const stop = byTestId(root, "teacher-stop");
  const runText = byTestId(root, "teacher-run");
  const results = byTestId(root, "teacher-results");

  // What only this view holds: the chosen test images, the table's order, the rows picked for
  // McNemar's test (two at most) and the rows whose confusion matrix is open.
  let test = null; // {items, classes, leftOut}
  let sort = { key: "accuracy", descending: true };
  let pair = [];
  const open = new Set();
  let shown = null; // the comparison on screen
  let lastState = null;

  const auth = () => ({ code: code.value, token: token.value });
  const refresh = () => lastState && render(lastState, lastState, true);

  dispatch("rememberedTeacher").then((saved) => {
    if (!saved) return;
    if (!code.value) code.value = saved.code;
    if (!token.value) token.value = saved.token;
    rememberBox.checked = true;
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    dispatch("classSubmissions", [{ ...auth(), remember: rememberBox.checked }]);
  });

  function chosen(files) {
    test = sortTestFolder(files);
    const { items, classes, leftOut } = test;
    const counts = classes.map((name) => `${name} ${items.filter((item) => item.className === name).length}`);
    const left = [
      leftOut.loose ? `${plural(leftOut.loose, "image")} outside the class folders` : "",
      leftOut.ignored ? `${plural(leftOut.ignored, "file")} that are not images` : "",
    ].filter(Boolean);
    imagesText.dataset.count = String(items.length);
    imagesText.dataset.classes = String(classes.length);
    imagesText.textContent = items.length
      ? `${plural(items.length, "test image")} in ${classes.length} ${classes.length === 1 ? "class" : "classes"}: ${counts.join(", ")}.` +
        (left.length ? ` Left out ${left.join(" and ")}.` : "")
      : "No test images here: put them in sub-folders named like the classes.";
    refresh();
  }

  chooseFiles(folderButton, folderInput, (files) =>
    chosen(files.map((file) => ({ path: file.webkitRelativePath || file.name, file }))),
  );
  acceptDrops(drop, (dropped) => chosen(dropped.files));

  compare.addEventListener("click", () => {
    if (!test?.items.length) return;
    dispatch("compareSubmissions", [auth(), test.items, { ensemble: true }]);
  });
  stop.addEventListener("click", () => dispatch("stopComparison"));

  function showListing(listing) {
    classBox.hidden = !listing;
    if (!listing) return;
    title.textContent =
      `${listing.title} (class ${listing.code}${listing.closed ? ", closed" : ""}): ` +
      `${plural(listing.submissions.length, "submission")}`;
    list.replaceChildren(
      ...listing.submissions.map((item) =>
        el(
          "li",
          { dataset: { testid: "teacher-submission", id: item.id, name: item.name } },
          `${item.name}: ${(item.labels ?? []).join(", ")}` +
            (item.created ? ` (${new Date(item.created).toLocaleString()})` : ""),
        ),
      ),
    );
  }

  // Focus follows a rebuilt control: the new one with the same key takes it.
  function keepFocus(rebuild) {
    const key = results.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    rebuild();
    if (key) results.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
  }

  function pairSentence(comparison) {
    const { result } = comparison;
    const names = new Map(result.items.map((item) => [item.id, item.name]));
    pair = pair.filter((id) => names.has(id));
    if (pair.length < 2) return "Tick two models under Pair to compare them with McNemar's exact test.";
    const [a, b] = pair;
    const found = result.comparisons.find((c) => (c.a === a && c.b === b) || (c.a === b && c.b === a));
    const flipped = found.a !== a;
    const oriented = flipped ? { ...found, onlyA: found.onlyB, onlyB: found.onlyA } : found;
    return mcnemarSentence(oriented, names.get(a), names.get(b));
  }

  // "Run one image through every model" and its answers, beside the CSV's button.
  function oneImage(state, csvButton) {
    const input = el("input", {
      type: "file",
      accept: "image/*",
      class: "visually-hidden",
      tabindex: "-1",
      "aria-hidden": "true",
      dataset: { testid: "teacher-one-upload" },
    });
    const button = el(
      "button",
      { type: "button", class: "secondary", dataset: { testid: "teacher-one-choose", key: "one" } },
      "Run one image through every model…",
    );
    enable(button, can("runImageThroughAll"));
    chooseFiles(button, input, ([file]) => dispatch("runImageThroughAll", [file]));
    const single = state.teacher.single;
    return el(
      "div",
      {},
      el("div", { class: "teacher-actions" }, button, input, csvButton),
      single
        ? el(
            "ul",
            { class: "cloud-list", dataset: { testid: "teacher-one-result", image: single.name } },
            ...single.answers.map((answer) =>
              el(
                "li",
                { dataset: { id: answer.id, label: answer.label, confidence: String(answer.confidence) } },
                `${answer.name}: ${answer.label} (${percent(answer.confidence)} sure)`,
              ),
            ),
          )
        : null,
    );
  }

  function showResults(comparison, state) {
    results.hidden = !comparison;
    if (!comparison) return results.replaceChildren();
    const { result, truths, classes, notComparable, auth: used } = comparison;
    const csvButton = el(
      "button",
      {
        type: "button",
        class: "secondary",
        dataset: { testid: "teacher-csv", key: "csv" },
        onclick: () =>
          downloadText(
            root,
            compareCsv(classes, result, `Ensemble of ${plural(result.ensemble?.ids.length ?? 0, "model")}`),
            `class-${used.code}-comparison.csv`,
          ),
      },
      "Download the table (CSV)",
    );
    keepFocus(() =>
      results.replaceChildren(
        el(
          "p",
          { class: "spread", dataset: { testid: "teacher-spread", ...mapHooks(result.spread) } },
          spreadSentence(result.spread, truths.length),
        ),
        el(
          "div",
          { class: "scroll-box" },
          comparisonTable(comparison, {
            sort,
            pair,
            open,
            onSort: (next) => {
              sort = next;
              refresh();
            },
            onPair: (id, ticked) => {
              pair = ticked ? [...pair, id].slice(-2) : pair.filter((other) => other !== id);
              refresh();
            },
            onEnsemble: (ids) => dispatch("chooseEnsemble", [ids]),
            onDetails: (id) => {
              if (open.has(id)) open.delete(id);
              else open.add(id);
              refresh();
            },
          }),
        ),
        el(
          "p",
          { class: "mcnemar", dataset: { testid: "teacher-mcnemar", pair: pair.join(" ") } },
          pairSentence(comparison),
        ),
        el(
          "p",
          { class: "hint" },
          "Tick models under Ensemble: the ensemble answers each image with the class whose probability, " +
            "averaged over those models, is the highest.",
        ),
        oneImage(state, csvButton),
        notComparable.length
          ? el(
              "div",
              {},
              el("h3", {}, `Not comparable on these test images (${notComparable.length})`),
              el(
                "ul",
                { class: "cloud-list not-comparable", dataset: { testid: "teacher-not-comparable" } },
                ...notComparable.map((item) =>
                  el("li", { dataset: { id: item.id, name: item.name } }, `${item.name}: ${item.reason}.`),
                ),
              ),
            )
          : null,
      ),
    );
  }

  function render(state, previous, force = false) {
    lastState = state;
    const { teacher } = state;
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OWN);
    enable(load, can("classSubmissions"));
    const running = teacher.run?.state === "running";
    root.dataset.state = teacher.run?.state ?? (teacher.comparison ? "done" : "idle");
    enable(
      compare,
      can("compareSubmissions") ??
        (test?.items.length ? null : { message: "Choose a folder of test images first." }),
    );
    enable(folderButton, running ? { message: "Wait for the comparison, or stop it." } : null);
    stop.hidden = !running;
    progress.hidden = !running;
    if (teacher.run) {
      progress.max = Math.max(1, teacher.run.total);
      progress.value = teacher.run.done;
    }
    runText.dataset.state = teacher.run?.state ?? "idle";
    runText.dataset.done = String(teacher.run?.done ?? 0);
    runText.textContent = teacher.run?.text ?? "";
    if (force || teacher.listing !== previous?.teacher.listing) showListing(teacher.listing);
    if (
      force ||
      teacher.comparison !== previous?.teacher.comparison ||
      teacher.single !== previous?.teacher.single ||
      teacher.run !== previous?.teacher.run
    ) {
      if (teacher.comparison !== shown) {
        open.clear();
        pair = [];
        shown = teacher.comparison;
      }
      showResults(teacher.run?.state === "done" ? teacher.comparison : null, state);
    }
  }

  return render;
}

function mapHooks({ median, min, max, count }) {
  return { median: hook(median), min: hook(min), max: hook(max), count: String(count) };
}
