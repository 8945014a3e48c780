// The class cards: name, sample count, upload, drag-and-drop, hold-to-record, thumbnails.
import { byTestId, el } from "./dom.js";

const SHOWN_THUMBNAILS = 40;

// A two-step button: the first press asks, the second (on "Yes") acts. No window.confirm, which
// blocks the page and cannot be styled or read by a screen reader in context.
function confirmingButton(label, question, action) {
  const wrapper = el("span", { class: "confirming" });
  const ask = el("button", { type: "button", class: "secondary" }, label);
  const prompt = el("span", { class: "confirm", hidden: true }, `${question} `);
  const yes = el("button", { type: "button", class: "danger" }, "Yes");
  const no = el("button", { type: "button", class: "secondary" }, "No");
  prompt.append(yes, " ", no);
  const show = (asking) => {
    ask.hidden = asking;
    prompt.hidden = !asking;
    (asking ? no : ask).focus();
  };
  ask.addEventListener("click", () => show(true));
  no.addEventListener("click", () => show(false));
  yes.addEventListener("click", () => {
    show(false);
    action();
  });
  wrapper.append(ask, prompt);
  return wrapper;
}

function filesOf(event) {
  return Array.from(event.dataTransfer?.files ?? []);
}

export class ClassesView {
  constructor(root, app, thumbnails) {
    this.root = root;
    this.app = app;
    this.thumbnails = thumbnails;
    this.cards = new Map(); // class id → {card, parts}
    byTestId("add-class").addEventListener("click", () => app.addClass());
  }

  createCard(item) {
    const app = this.app;
    const id = item.id;
    const nameInput = el("input", {
      class: "class-name",
      type: "text",
      maxlength: "40",
      "aria-label": "Class name",
    });
    nameInput.addEventListener("change", () => app.renameClass(id, nameInput.value));
    const count = el("span", { dataset: { testid: "sample-count" } }, "0");
    const upload = el("input", {
      type: "file",
      accept: "image/*",
      multiple: true,
      class: "visually-hidden",
      dataset: { testid: "sample-upload" },
    });
    upload.addEventListener("change", async () => {
      const files = Array.from(upload.files);
      upload.value = "";
      await app.addFiles(id, files);
    });
    const record = el(
      "button",
      { type: "button", class: "record", dataset: { testid: "record" }, "aria-pressed": "false" },
      "Hold to record",
    );
    const start = (event) => {
      event.preventDefault();
      app.startRecording(id);
    };
    const stop = () => app.stopRecording();
    record.addEventListener("pointerdown", (event) => {
      // Captured, the press lasts until release even if the page moves under the pointer.
      record.setPointerCapture(event.pointerId);
      start(event);
    });
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"])
      record.addEventListener(type, stop);
    record.addEventListener("keydown", (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) start(event);
    });
    record.addEventListener("keyup", (event) => {
      if (event.key === " " || event.key === "Enter") stop();
    });
    const thumbs = el("ul", { class: "thumbs", dataset: { testid: "thumbnails" } });
    thumbs.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-sample-id]");
      if (button) app.deleteSample(button.dataset.sampleId);
    });
    const more = el("p", { class: "more" });
    const card = el(
      "article",
      { class: "class-card", dataset: { testid: "class", classId: id } },
      el("header", {}, nameInput, el("span", { class: "count" }, count, " samples")),
      el(
        "div",
        { class: "actions" },
        el("label", { class: "button" }, "Upload images", upload),
        record,
        confirmingButton("Clear samples", "Remove all samples of this class?", () => app.clearClass(id)),
        confirmingButton("Delete class", "Delete this class and its samples?", () => app.deleteClass(id)),
      ),
      el("p", { class: "hint" }, "…or drop image files on this card."),
      thumbs,
      more,
    );
    card.addEventListener("dragover", (event) => {
      event.preventDefault();
      card.classList.add("dragging");
    });
    card.addEventListener("dragleave", () => card.classList.remove("dragging"));
    card.addEventListener("drop", (event) => {
      event.preventDefault();
      card.classList.remove("dragging");
      app.addFiles(id, filesOf(event));
    });
    return { card, nameInput, count, record, thumbs, more, shown: "" };
  }

  render(state, previous) {
    const { dataset } = state;
    const datasetChanged = dataset !== previous?.dataset;
    if (datasetChanged) this.renderCards(dataset);
    if (
      datasetChanged ||
      state.recordingClassId !== previous?.recordingClassId ||
      state.status !== previous?.status
    ) {
      const ready = state.status === "ready";
      for (const [id, parts] of this.cards) {
        const recording = state.recordingClassId === id;
        parts.record.setAttribute("aria-pressed", String(recording));
        parts.record.textContent = recording ? "Recording…" : "Hold to record";
        parts.card.dataset.recording = String(recording);
        for (const control of parts.card.querySelectorAll("input, button")) control.disabled = !ready;
      }
    }
  }

  renderCards(dataset) {
    const counts = dataset.counts();
    for (const [id, parts] of this.cards) {
      if (!dataset.classById(id)) {
        parts.card.remove();
        this.cards.delete(id);
      }
    }
    for (const [index, item] of dataset.classes.entries()) {
      if (!this.cards.has(item.id)) this.cards.set(item.id, this.createCard(item));
      const parts = this.cards.get(item.id);
      // Move a card only when it is out of place: moving it would end a held record press.
      const current = this.root.children[index];
      if (current !== parts.card) this.root.insertBefore(parts.card, current ?? null);
      parts.card.dataset.className = item.name;
      if (document.activeElement !== parts.nameInput) parts.nameInput.value = item.name;
      parts.count.textContent = String(counts[item.id]);
      this.renderThumbnails(parts, dataset.samplesOf(item.id));
    }
    this.thumbnails.keepOnly(dataset.samples);
  }

  renderThumbnails(parts, samples) {
    const shown = samples.slice(-SHOWN_THUMBNAILS);
    const key = shown.map((sample) => sample.id).join();
    if (key === parts.shown) return;
    parts.shown = key;
    parts.thumbs.replaceChildren(
      ...shown.map((sample, index) =>
        el(
          "li",
          {},
          el("img", { src: this.thumbnails.url(sample), alt: "", width: "48", height: "48" }),
          el(
            "button",
            {
              type: "button",
              class: "remove",
              dataset: { sampleId: sample.id },
              "aria-label": `Delete sample ${index + 1}`,
            },
            "×",
          ),
        ),
      ),
    );
    const hidden = samples.length - shown.length;
    parts.more.textContent = hidden > 0 ? `…and ${hidden} more` : "";
  }
}
