// The class cards: name, sample count, upload, drag-and-drop, hold-to-record with the camera's
// picture in the card, thumbnails, and a menu for clearing or deleting the class.
import { byActions, showNotice } from "./messages.js";
import { formatValue, sliderStep } from "../learning/values.js";
import { byTestId, changed, el, enable } from "./dom.js";

const SHOWN_THUMBNAILS = 40;
const CARD_ACTIONS = byActions(
  "renameClass",
  "addImages",
  "startRecording",
  "clearClass",
  "deleteClass",
  "setTargetValue",
);

function filesOf(event) {
  return Array.from(event.dataTransfer?.files ?? []);
}

// A button that opens a hidden file input: Enter and Space both open the chooser.
export function fileButton(label, input, testid) {
  const button = el("button", { type: "button", class: "secondary", dataset: { testid } }, label);
  button.addEventListener("click", () => input.click());
  return button;
}

// Clearing and deleting sit behind a small menu button, away from the everyday controls.
function menu(id, dispatch) {
  const toggle = el(
    "button",
    { type: "button", class: "secondary menu-button", "aria-expanded": "false" },
    "⋯",
  );
  const clear = el("button", { type: "button", class: "secondary" }, "Clear samples");
  const remove = el("button", { type: "button", class: "danger" }, "Delete class");
  const items = el("div", { class: "menu-items", hidden: true }, clear, remove);
  const show = (open) => {
    items.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => show(items.hidden));
  const choose = (action) => () => {
    show(false);
    toggle.focus();
    dispatch(action, [id]);
  };
  clear.addEventListener("click", choose("clearClass"));
  remove.addEventListener("click", choose("deleteClass"));
  const wrapper = el("span", { class: "menu" }, toggle, items);
  wrapper.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !items.hidden) {
      show(false);
      toggle.focus();
    }
  });
  wrapper.addEventListener("focusout", (event) => {
    if (!wrapper.contains(event.relatedTarget)) show(false);
  });
  return { wrapper, toggle, clear, remove };
}

// The thumbnails are one tab stop: arrow keys move between them, Delete removes the focused one.
function thumbnailKeys(thumbs, dispatch) {
  thumbs.addEventListener("keydown", (event) => {
    const items = Array.from(thumbs.querySelectorAll(".thumb"));
    const index = items.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = {
      ArrowRight: 1,
      ArrowDown: 1,
      ArrowLeft: -1,
      ArrowUp: -1,
      Home: -index,
      End: items.length,
    };
    if (event.key in moves) {
      event.preventDefault();
      const next = items[Math.max(0, Math.min(items.length - 1, index + moves[event.key]))];
      items[index].tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      dispatch("deleteSample", [items[index].dataset.sampleId]);
    }
  });
}

// On a regression page: the number the next upload or recording gets, beside their buttons.
function valueSlider(spec, dispatch) {
  const input = el("input", {
    type: "range",
    min: String(spec.min),
    max: String(spec.max),
    step: String(sliderStep(spec)),
    dataset: { testid: "target-slider" },
  });
  const output = el("output", { dataset: { testid: "target-value" } });
  input.addEventListener("input", () => dispatch("setTargetValue", [Number(input.value)]));
  const label = el("label", { class: "value-slider" }, el("span", {}, spec.label), input, output);
  return { label, input, output };
}

// `spec` is the page's [regression] table, or null on a classifier's page.
function createCard(item, dispatch, spec) {
  const id = item.id;
  const nameInput = el("input", {
    class: "class-name",
    type: "text",
    maxlength: "40",
    "aria-label": "Class name",
  });
  const upload = el("input", {
    type: "file",
    accept: "image/*",
    multiple: true,
    class: "visually-hidden",
    tabindex: "-1",
    "aria-hidden": "true",
    dataset: { testid: "sample-upload" },
  });
  upload.addEventListener("change", () => {
    const files = Array.from(upload.files);
    upload.value = "";
    dispatch("addImages", [id, files]);
  });
  const uploadButton = fileButton("Upload images", upload, "upload-button");
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
    if (event.button !== 0) return; // a finger, a pen or the main mouse button; not a right click
    // Captured, the press lasts until release even if the page moves under the pointer.
    record.setPointerCapture(event.pointerId);
    start(event);
  });
  // A touch that the browser takes back (a system gesture, an incoming call) ends the press too.
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"])
    record.addEventListener(type, stop);
  // A long press on a touch screen would open the context menu (Android, Chromebooks) and end the press.
  record.addEventListener("contextmenu", (event) => event.preventDefault());
  record.addEventListener("keydown", (event) => {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) start(event);
  });
  record.addEventListener("keyup", (event) => {
    if (event.key === " " || event.key === "Enter") stop();
  });
  const preview = el("video", {
    class: "preview",
    muted: true,
    playsInline: true,
    hidden: true,
    "aria-label": `The camera, recording into ${item.name}`,
    dataset: { testid: "preview" },
  });
  const thumbs = el("ul", { class: "thumbs", dataset: { testid: "thumbnails" }, "aria-label": "Samples" });
  thumbs.addEventListener("click", (event) => {
    const button = event.target.closest("button.remove");
    if (button) dispatch("deleteSample", [button.dataset.sampleId]);
  });
  thumbnailKeys(thumbs, dispatch);
  const count = el("span", { dataset: { testid: "sample-count" } }, "0");
  const message = el("p", { class: "card-message", hidden: true, dataset: { testid: "card-message" } });
  const more = el("p", { class: "more" });
  const classMenu = menu(id, dispatch);
  const slider = spec ? valueSlider(spec, dispatch) : null;
  classMenu.remove.hidden = Boolean(spec); // a regression page has its one group of samples
  const card = el(
    "article",
    { class: "class-card", dataset: { testid: "class", classId: id } },
    el(
      "div",
      { class: "card-main" },
      el("header", {}, nameInput, el("span", { class: "count" }, count, " samples"), classMenu.wrapper),
      el("div", { class: "actions" }, uploadButton, upload, record, slider?.label ?? ""),
      message,
      thumbs,
      more,
    ),
    preview,
  );
  nameInput.addEventListener("change", async () => {
    await dispatch("renameClass", [id, nameInput.value]);
    nameInput.value = card.dataset.className; // the new name, or the old one if it was refused
  });
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
  return {
    card,
    nameInput,
    count,
    upload,
    uploadButton,
    record,
    preview,
    message,
    classMenu,
    thumbs,
    more,
    slider,
    shown: "",
  };
}

// What a thumbnail is called; `number` counts from the class's first sample, so an item keeps its
// label while newer samples push older ones out of view.
function thumbnailLabel(sample, number, className, spec) {
  const value = spec ? `, ${formatValue(spec, sample.value)}` : "";
  return `Sample ${number} of ${className}${value}; press Delete to remove it`;
}

function thumbnailItem(sample, number, label, thumbnails, spec) {
  return el(
    "li",
    { dataset: { sampleId: sample.id, label } },
    el(
      "button",
      {
        type: "button",
        class: "thumb",
        tabindex: "-1",
        dataset: { sampleId: sample.id },
        "aria-label": label,
      },
      el("img", { src: thumbnails.url(sample), alt: "", width: "48", height: "48" }),
      spec ? el("span", { class: "thumb-value" }, formatValue(spec, sample.value)) : "",
    ),
    el(
      "button",
      {
        type: "button",
        class: "remove",
        tabindex: "-1",
        dataset: { sampleId: sample.id },
        "aria-label": `Delete sample ${number}`,
      },
      "×",
    ),
  );
}

// Items already shown with the same label are kept, so adding a sample costs one new item, not
// all of them again (100 uploads re-rendered 40 items each before).
function renderThumbnails(parts, samples, thumbnails, className, spec) {
  const shown = samples.slice(-SHOWN_THUMBNAILS);
  const key = shown.map((sample) => sample.id).join();
  if (key === parts.shown) return;
  parts.shown = key;
  const focused = parts.thumbs.contains(document.activeElement);
  const current = new Map(Array.from(parts.thumbs.children, (item) => [item.dataset.sampleId, item]));
  const hidden = samples.length - shown.length;
  const items = shown.map((sample, index) => {
    const number = hidden + index + 1;
    const label = thumbnailLabel(sample, number, className, spec);
    const kept = current.get(sample.id);
    return kept?.dataset.label === label ? kept : thumbnailItem(sample, number, label, thumbnails, spec);
  });
  const wanted = new Set(items);
  for (const item of Array.from(parts.thumbs.children)) if (!wanted.has(item)) item.remove();
  // What is left is in order (samples only come and go); the new ones go after it.
  const left = Array.from(parts.thumbs.children);
  if (left.every((item, index) => item === items[index])) parts.thumbs.append(...items.slice(left.length));
  else parts.thumbs.replaceChildren(...items);
  // One tab stop in the list: the newest sample.
  for (const button of parts.thumbs.querySelectorAll('.thumb[tabindex="0"]')) button.tabIndex = -1;
  const newest = items.at(-1)?.querySelector(".thumb");
  if (newest) newest.tabIndex = 0;
  if (focused) newest?.focus();
  parts.more.textContent = hidden > 0 ? `…and ${hidden} more` : "";
}

function showPreview(parts, stream, visible) {
  parts.preview.hidden = !visible;
  const wanted = visible ? stream : null;
  if (parts.preview.srcObject !== wanted) parts.preview.srcObject = wanted;
  if (wanted) parts.preview.play().catch(() => {});
}

export function mountClasses(root, { can, dispatch }, thumbnails) {
  const list = byTestId(root, "classes");
  const addButton = byTestId(root, "add-class");
  const message = byTestId(root, "classes-message");
  const cards = new Map(); // class id → its parts
  addButton.addEventListener("click", async () => {
    const added = await dispatch("addClass");
    if (added) cards.get(added.id)?.nameInput.focus();
  });

  function renderCards(dataset, spec) {
    const counts = dataset.counts();
    for (const [id, parts] of cards) {
      if (!dataset.classById(id)) {
        parts.card.remove();
        cards.delete(id);
      }
    }
    for (const [index, item] of dataset.classes.entries()) {
      if (!cards.has(item.id)) cards.set(item.id, createCard(item, dispatch, spec));
      const parts = cards.get(item.id);
      // Move a card only when it is out of place: moving it would end a held record press.
      const current = list.children[index];
      if (current !== parts.card) list.insertBefore(parts.card, current ?? null);
      parts.card.dataset.className = item.name;
      parts.classMenu.toggle.setAttribute("aria-label", `More for ${item.name}`);
      if (document.activeElement !== parts.nameInput) parts.nameInput.value = item.name;
      parts.count.textContent = String(counts[item.id]);
      renderThumbnails(parts, dataset.samplesOf(item.id), thumbnails, item.name, spec);
    }
    thumbnails.keepOnly(dataset.samples);
  }

  return (state, previous) => {
    if (state.dataset !== previous?.dataset) renderCards(state.dataset, state.regression);
    addButton.hidden = Boolean(state.regression);
    if (state.regression && changed(state, previous, ["targetValue", "dataset"]))
      for (const { slider } of cards.values()) {
        slider.input.value = String(state.targetValue);
        slider.output.textContent = formatValue(state.regression, state.targetValue);
      }
    if (state.notice !== previous?.notice) {
      const notice = state.notice;
      showNotice(message, notice, (n) => CARD_ACTIONS(n) && !cards.has(n.subject));
      for (const [id, parts] of cards)
        showNotice(parts.message, notice, (n) => CARD_ACTIONS(n) && n.subject === id);
    }
    if (changed(state, previous, ["dataset", "camera", "recordingClassId"])) {
      const { stream, classId } = state.camera;
      for (const [id, parts] of cards) showPreview(parts, stream, Boolean(stream) && classId === id);
    }
    // What `can` depends on for these controls; live prediction renders often and changes none of it.
    if (!changed(state, previous, ["dataset", "status", "training", "recordingClassId"])) return;
    const sliding = can("setTargetValue");
    enable(addButton, can("addClass"));
    const changing = can("addImages");
    for (const [id, parts] of cards) {
      const recording = state.recordingClassId === id;
      parts.record.setAttribute("aria-pressed", String(recording));
      parts.record.textContent = recording ? "Recording…" : "Hold to record";
      parts.card.dataset.recording = String(recording);
      // The held button stays enabled: disabling it would end the press.
      if (!recording) enable(parts.record, can("startRecording"));
      const controls = [
        parts.nameInput,
        parts.upload,
        parts.uploadButton,
        parts.classMenu.clear,
        parts.classMenu.remove,
      ];
      for (const control of controls) enable(control, changing);
      // Held still while recording: the press records one value.
      if (parts.slider) enable(parts.slider.input, recording ? { message: "Recording." } : sliding);
      parts.thumbs.querySelectorAll(".remove").forEach((button) => enable(button, changing));
    }
  };
}
