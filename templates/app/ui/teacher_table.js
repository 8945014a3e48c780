// The teacher's table of a class's models (ui/teacher.js): a row per comparable model with its
// accuracy and n, the 95 % Wilson interval and each class's recall, sortable by its headers
// (buttons, with aria-sort); tick boxes for McNemar's pair and the ensemble; a model's confusion
// matrix in a row below it; the ensemble's row at the foot.
import { confusionTable } from "./confusion_table.js";
import { el, hook, percent } from "./dom.js";

function intervalText([low, high]) {
  return low === null ? "–" : `${percent(low)} to ${percent(high)}`;
}

function accuracyText(item) {
  return `${percent(item.accuracy)} (${item.correct} of ${item.count})`;
}

export function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

// The sort keys of the table's columns: a row's value for each.
function sortValue(item, key) {
  if (key === "name") return item.name.toLocaleLowerCase();
  if (key === "accuracy") return item.accuracy ?? -1;
  if (key === "low") return item.interval[0] ?? -1;
  return item.perClass[key.slice("recall:".length)]?.recall ?? -1;
}

function modelConfusion(name, { labels, matrix }) {
  return confusionTable({
    labels,
    matrix,
    testid: "teacher-confusion",
    caption: `${name}: each row is the actual class, each column what the model answered.`,
  });
}

function header(view, label, key) {
  const { sort } = view;
  const active = sort.key === key;
  return el(
    "th",
    { scope: "col", "aria-sort": active ? (sort.descending ? "descending" : "ascending") : "none" },
    el(
      "button",
      {
        type: "button",
        dataset: { key: `sort:${key}`, testid: "teacher-sort", sort: key },
        onclick: () => view.onSort({ key, descending: active ? !sort.descending : key !== "name" }),
      },
      label,
      // The order seen; aria-sort says it to screen readers.
      el("span", { "aria-hidden": "true" }, active ? (sort.descending ? " ▼" : " ▲") : ""),
    ),
  );
}

function checkbox(key, label, checked, onchange) {
  return el("input", {
    type: "checkbox",
    checked,
    "aria-label": label,
    dataset: { key },
    onchange,
  });
}

function row(view, item, classes, ensembleIds, comparison) {
  const { pair, open } = view;
  const [low, high] = item.interval;
  const cells = el(
    "tr",
    {
      dataset: {
        testid: "teacher-row",
        id: item.id,
        name: item.name,
        correct: String(item.correct),
        count: String(item.count),
        accuracy: hook(item.accuracy),
        low: hook(low),
        high: hook(high),
      },
    },
    el(
      "td",
      {},
      checkbox(
        `pair:${item.id}`,
        `Compare ${item.name} with another model`,
        pair.includes(item.id),
        (event) => view.onPair(item.id, event.target.checked),
      ),
    ),
    el(
      "td",
      {},
      checkbox(
        `ensemble:${item.id}`,
        `${item.name} in the ensemble`,
        ensembleIds.includes(item.id),
        (event) => {
          const ids = comparison.members
            .map((member) => member.id)
            .filter((id) => (id === item.id ? event.target.checked : ensembleIds.includes(id)));
          view.onEnsemble(ids);
        },
      ),
    ),
    el("td", { class: "name" }, item.name),
    el("td", {}, accuracyText(item)),
    el("td", {}, intervalText(item.interval)),
    ...classes.map((name) =>
      el(
        "td",
        { dataset: { className: name, recall: hook(item.perClass[name]?.recall) } },
        percent(item.perClass[name]?.recall),
      ),
    ),
    el(
      "td",
      {},
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-expanded": String(open.has(item.id)),
          dataset: { key: `details:${item.id}`, testid: "teacher-details" },
          onclick: () => view.onDetails(item.id),
        },
        open.has(item.id) ? "Hide" : "Confusion",
      ),
    ),
  );
  if (!open.has(item.id)) return [cells];
  return [
    cells,
    el(
      "tr",
      { dataset: { testid: "teacher-details-row", id: item.id } },
      el("td", { colspan: String(6 + classes.length) }, modelConfusion(item.name, item.confusion)),
    ),
  ];
}

// The table of a comparison: `view` is what the teacher's view holds, {sort: {key, descending},
// pair: [id], open: Set(id)}, and its handlers onSort(sort), onPair(id, ticked), onEnsemble(ids),
// onDetails(id).
export function comparisonTable(comparison, view) {
  const { sort } = view;
  const { result, classes } = comparison;
  const ensembleIds = result.ensemble?.ids ?? [];
  const direction = sort.descending ? -1 : 1;
  const items = [...result.items].sort((a, b) => {
    const [x, y] = [sortValue(a, sort.key), sortValue(b, sort.key)];
    return x < y ? -direction : x > y ? direction : 0;
  });
  const foot = result.ensemble
    ? el(
        "tfoot",
        {},
        el(
          "tr",
          {
            dataset: {
              testid: "teacher-ensemble-row",
              ids: result.ensemble.ids.join(" "),
              correct: String(result.ensemble.correct),
              count: String(result.ensemble.count),
              accuracy: hook(result.ensemble.accuracy),
            },
          },
          el("td", {}),
          el("td", {}),
          el(
            "th",
            { scope: "row", class: "name" },
            `Ensemble of ${plural(result.ensemble.ids.length, "model")}`,
          ),
          el("td", {}, accuracyText(result.ensemble)),
          el("td", {}, intervalText(result.ensemble.interval)),
          ...classes.map((name) => el("td", {}, percent(result.ensemble.perClass[name]?.recall))),
          el("td", {}),
        ),
      )
    : null;
  return el(
    "table",
    { dataset: { testid: "teacher-table", rows: String(items.length) } },
    el(
      "caption",
      {},
      "Each model on the same test images: accuracy with its number right, the 95 % Wilson interval, " +
        "and the recall of each class (of its images, the share the model found).",
    ),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col" }, "Pair"),
        el("th", { scope: "col" }, "Ensemble"),
        header(view, "Name", "name"),
        header(view, "Accuracy", "accuracy"),
        header(view, "95 % interval", "low"),
        ...classes.map((name) => header(view, `Recall ${name}`, `recall:${name}`)),
        el("th", { scope: "col" }, "Details"),
      ),
    ),
    el("tbody", {}, ...items.flatMap((item) => row(view, item, classes, ensembleIds, comparison))),
    foot,
  );
}
