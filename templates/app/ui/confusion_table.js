// A confusion matrix as a table: the test panel's and each of the teacher's models'.
import { el } from "./dom.js";

// `matrix[i][j]` counts the images of class labels[i] answered as labels[j]; the diagonal is
// marked right and any other non-zero cell wrong (style.css colours them).
export function confusionTable({ labels, matrix, testid, caption }) {
  return el(
    "table",
    { dataset: { testid, classes: String(labels.length) } },
    el("caption", {}, caption),
    el(
      "tr",
      {},
      el("th", { scope: "col" }, "actual \\ predicted"),
      ...labels.map((name) => el("th", { scope: "col" }, name)),
    ),
    ...matrix.map((row, i) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, labels[i]),
        ...row.map((value, j) =>
          el(
            "td",
            {
              dataset: { actual: labels[i], predicted: labels[j], count: String(value) },
              "aria-label": `${value} ${labels[i]} predicted as ${labels[j]}`,
              class: i === j ? "diagonal" : value ? "wrong" : "",
            },
            String(value),
          ),
        ),
      ),
    ),
  );
}
