// The class cards: name, sample count, upload, drag-and-drop, hold-to-record, thumbnails.
import { byTestId, changed, el, enable } from "./dom.js";

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
  return { wrapper, ask, yes };
}

function filesOf(event) {
  return Array.from(event.dataTransfer?.files ?? []);
}

function createCard(id, dispatch) {
  const nameInput = el("input", {
    class: "class-name",
    type: "text",
    maxlength: "40",
    "aria-label": "Class name",
  });
  nameInput.addEventListener("change", () => dispatch("renameClass", [id, nameInput.value]));
  const count = el("span", { dataset: { testid: "sample-count" } }, "0");
  const upload = el("input", {
    type: "file",
    accept: "image/*",
    multiple: true,
    class: "visually-hidden",
    dataset: { testid: "sample-upload" },
  });
  upload.addEventListener("change", () => {
    const files = Array.from(upload.files);
    upload.value = "";
    dispatch("addImages", [id, files]);
  });
  const record = el(
    "button",
    { type: "button", class: "record", dataset: { testid: "record" }, "aria-pressed": "false" },
    "Hold to record",
  );
  const start = (event) => {
    event.preventDefault();
    dispatch("startRecording", [id]);
  };
  const stop = () => dispatch("stopRecording");
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
    if (button) dispatch("deleteSample", [button.dataset.sampleId]);
  });
  const more = el("p", { class: "more" });
  const clear = confirmingButton("Clear samples", "Remove all samples of this class?", () =>
    dispatch("clearClass", [id]),
  );
  const remove = confirmingButton("Delete class", "Delete this class and its samples?", () =>
    dispatch("deleteClass", [id]),
  );
  const card = el(
    "article",
    { class: "class-card", dataset: { testid: "class", classId: id } },
    el("header", {}, nameInput, el("span", { class: "count" }, count, " samples")),
    el(
      "div",
      { class: "actions" },
      el("label", { class: "button" }, "Upload images", upload),
      record,
      clear.wrapper,
      remove.wrapper,
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
    dispatch("addImages", [id, filesOf(event)]);
  });
  return { card, nameInput, count, upload, record, clear, remove, thumbs, more, shown: "" };
}

function renderThumbnails(parts, samples, thumbnails) {
  const shown = samples.slice(-SHOWN_THUMBNAILS);
  const key = shown.map((sample) => sample.id).join();
  if (key === parts.shown) return;
  parts.shown = key;
  parts.thumbs.replaceChildren(
    ...shown.map((sample, index) =>
      el(
        "li",
        {},
        el("img", { src: thumbnails.url(sample), alt: "", width: "48", height: "48" }),
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

export function mountClasses(root, { can, dispatch }, thumbnails) {
  const list = byTestId(root, "classes");
  const addButton = byTestId(root, "add-class");
  const cards = new Map(); // class id → its parts
  addButton.addEventListener("click", () => dispatch("addClass"));

  function renderCards(dataset) {
    const counts = dataset.counts();
    for (const [id, parts] of cards) {
      if (!dataset.classById(id)) {
        parts.card.remove();
        cards.delete(id);
      }
    }
    for (const [index, item] of dataset.classes.entries()) {
      if (!cards.has(item.id)) cards.set(item.id, createCard(item.id, dispatch));
      const parts = cards.get(item.id);
      // Move a card only when it is out of place: moving it would end a held record press.
      const current = list.children[index];
      if (current !== parts.card) list.insertBefore(parts.card, current ?? null);
      parts.card.dataset.className = item.name;
      if (document.activeElement !== parts.nameInput) parts.nameInput.value = item.name;
      parts.count.textContent = String(counts[item.id]);
      renderThumbnails(parts, dataset.samplesOf(item.id), thumbnails);
    }
    thumbnails.keepOnly(dataset.samples);
  }

  return (state, previous) => {
    if (state.dataset !== previous?.dataset) renderCards(state.dataset);
    // What `can` depends on for these controls; live prediction renders often and changes none of it.
    if (!changed(state, previous, ["dataset", "status", "training", "recordingClassId"])) return;
    enable(addButton, can("addClass"));
    const changing = can("addImages");
    for (const [id, parts] of cards) {
      const recording = state.recordingClassId === id;
      parts.record.setAttribute("aria-pressed", String(recording));
      parts.record.textContent = recording ? "Recording…" : "Hold to record";
      parts.card.dataset.recording = String(recording);
      // The held button stays enabled: disabling it would end the press.
      if (!recording) enable(parts.record, can("startRecording"));
      for (const control of [
        parts.nameInput,
        parts.upload,
        parts.clear.ask,
        parts.clear.yes,
        parts.remove.ask,
        parts.remove.yes,
      ])
        enable(control, changing);
      parts.thumbs.querySelectorAll("button").forEach((button) => enable(button, changing));
    }
  };
}
