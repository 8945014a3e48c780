// "What the base model sees": the base model's own ImageNet top 5 for the current image, each
// with its WordNet name, definition and place in WordNet's hierarchy. Asks for the classifier
// only when opened.
import { byActions, showNotice } from "./messages.js";
import { byTestId, chooseFiles, el, enable, percent } from "./dom.js";

const OWN = byActions("showBaseModel", "lookAtImage");
const STATUS = {
  closed: "",
  loading: "Loading the ImageNet classifier…",
  ready: "",
  error: "The ImageNet classifier could not be loaded.",
};

export function mountImagenet(root, { can, dispatch }) {
  const status = byTestId(root, "imagenet-status");
  const list = byTestId(root, "imagenet-top");
  const hint = byTestId(root, "imagenet-hint");
  const choose = byTestId(root, "imagenet-choose");
  const upload = byTestId(root, "imagenet-upload");
  const licence = byTestId(root, "imagenet-licence");
  const message = byTestId(root, "imagenet-message");
  root.addEventListener("toggle", () => dispatch(root.open ? "showBaseModel" : "hideBaseModel"));
  chooseFiles(choose, upload, ([file]) => dispatch("lookAtImage", [file]));

  return (state, previous) => {
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OWN);
    enable(choose, can("lookAtImage"));
    enable(upload, can("lookAtImage"));
    const { imagenet } = state;
    if (imagenet === previous?.imagenet) return;
    root.dataset.status = imagenet.status;
    status.textContent = STATUS[imagenet.status];
    licence.textContent = imagenet.licence ?? "";
    hint.hidden = Boolean(imagenet.top);
    list.replaceChildren(
      ...(imagenet.top ?? []).map((entry) =>
        el(
          "li",
          { dataset: { synset: entry.synset, probability: entry.probability.toFixed(4) } },
          el("strong", {}, entry.name),
          ` ${percent(entry.probability)}`,
          el("span", { class: "definition" }, entry.definition),
          el("span", { class: "hypernyms" }, [entry.name, ...entry.path].join(" → ")),
        ),
      ),
    );
  };
}
