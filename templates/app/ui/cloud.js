// The cloud copy: "Keep a copy in the cloud" (title, note, what is sent, the unticked box for the
// example images, the upload's progress, the link and what this browser published) and "Open a
// model from the cloud" (by link or id, or from the receiver's list), with the opened model named
// above the prediction.
import { byActions, showNotice } from "./messages.js";
import { byTestId, el, enable } from "./dom.js";

const PUBLISHING = byActions("publish", "deletePublished");
const OPENING = byActions("openPublished", "closePublished", "listPublished");

function whatIsSent(state) {
  const knn = state.headRecord?.model.kind === "knn";
  const model = knn
    ? "the trained model (for k nearest neighbours that is the list of numbers the base model computed from each example, not the pictures)"
    : "the trained model";
  return `Sent to ${new URL(state.cloud.url).host}: ${model}, its class names and how it learned (the training history). Not your images.`;
}

// Copies `text`; where the browser allows no clipboard, the text is selected for the visitor.
async function copyText(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return "Copied.";
  } catch {
    input.select();
    return "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
  }
}

export function mountCloudPublish(root, { can, dispatch }) {
  const form = byTestId(root, "cloud-form");
  const title = byTestId(root, "cloud-title");
  const note = byTestId(root, "cloud-note");
  const what = byTestId(root, "cloud-what");
  const includeSamples = byTestId(root, "cloud-include-samples");
  const warning = byTestId(root, "cloud-samples-warning");
  const submit = byTestId(root, "cloud-publish");
  const progress = byTestId(root, "cloud-progress");
  const message = byTestId(root, "cloud-message");
  const result = byTestId(root, "cloud-result");
  const link = byTestId(root, "cloud-link");
  const copy = byTestId(root, "cloud-copy");
  const copied = byTestId(root, "cloud-copied");
  const list = byTestId(root, "cloud-published");
  const listHeading = byTestId(root, "cloud-published-heading");
  includeSamples.addEventListener("change", () => (warning.hidden = !includeSamples.checked));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const published = await dispatch("publish", [
      { title: title.value, note: note.value, includeSamples: includeSamples.checked },
    ]);
    // The box is for one upload: the next one starts without the images again.
    if (published) {
      includeSamples.checked = false;
      warning.hidden = true;
    }
  });
  copy.addEventListener("click", async () => (copied.textContent = await copyText(link)));

  return (state, previous) => {
    if (state.notice !== previous?.notice) showNotice(message, state.notice, PUBLISHING);
    enable(submit, can("publish"));
    if (state.headRecord !== previous?.headRecord) what.textContent = whatIsSent(state);
    const { upload, last, published } = state.cloud;
    progress.hidden = !upload;
    if (upload) progress.value = upload.total ? upload.sent / upload.total : 0;
    submit.textContent = upload ? "Sending…" : "Send to the cloud";
    if (last !== previous?.cloud.last) {
      result.hidden = !last;
      link.value = last?.link ?? "";
      copied.textContent = "";
    }
    if (published === previous?.cloud.published) return;
    listHeading.hidden = !published.length;
    list.replaceChildren(
      ...published.map((copy) =>
        el(
          "li",
          { dataset: { id: copy.id } },
          el("a", { href: copy.link, target: "_blank", rel: "noopener" }, copy.title),
          copy.withSamples ? " (with the example images)" : "",
          " ",
          el(
            "button",
            {
              type: "button",
              class: "secondary",
              dataset: { testid: "cloud-delete" },
              "aria-label": `Delete "${copy.title}" from the cloud`,
              onclick: () => dispatch("deletePublished", [copy.id]),
            },
            "Delete",
          ),
        ),
      ),
    );
  };
}

export function mountCloudOpen(root, { can, dispatch }) {
  const opened = byTestId(root, "cloud-opened");
  const openedTitle = byTestId(root, "cloud-opened-title");
  const close = byTestId(root, "cloud-close");
  const panel = byTestId(root, "cloud-open-panel");
  const form = byTestId(root, "cloud-open-form");
  const input = byTestId(root, "cloud-open-link");
  const submit = byTestId(root, "cloud-open");
  const list = byTestId(root, "cloud-list");
  const message = byTestId(root, "cloud-open-message");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    dispatch("openPublished", [input.value]);
  });
  close.addEventListener("click", () => dispatch("closePublished"));
  // The receiver's list is asked for when the visitor opens the panel, not on every page load.
  panel.addEventListener("toggle", () => panel.open && dispatch("listPublished"));

  return (state, previous) => {
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OPENING);
    enable(submit, can("openPublished"));
    if (state.openedModel !== previous?.openedModel) {
      opened.hidden = !state.openedModel;
      openedTitle.textContent = state.openedModel?.title ?? "";
    }
    const { listing } = state.cloud;
    if (listing === previous?.cloud.listing) return;
    list.hidden = !listing?.length;
    list.replaceChildren(
      ...(listing ?? []).map((item) =>
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", class: "link", onclick: () => dispatch("openPublished", [item.id]) },
            item.title || item.id,
          ),
          item.labels?.length ? ` (${item.labels.join(", ")})` : "",
        ),
      ),
    );
  };
}
