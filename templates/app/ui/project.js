// Saving and moving a session: export the project file (a download) and import one.
import { byActions, showNotice } from "./messages.js";
import { byTestId, chooseFiles, enable } from "./dom.js";

const OWN = byActions("exportProject", "importProject", "downloadModel");

function download(root, blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  root.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function mountProject(root, { can, dispatch }) {
  const exportButton = byTestId(root, "export-project");
  const importInput = byTestId(root, "import-project");
  const importButton = byTestId(root, "import-choose");
  const message = byTestId(root, "project-message");
  const modelButton = byTestId(root, "download-model");
  modelButton.addEventListener("click", async () => {
    const model = await dispatch("downloadModel");
    if (model) download(root, model.blob, model.name);
  });
  exportButton.addEventListener("click", async () => {
    const exported = await dispatch("exportProject");
    if (exported) download(root, exported.blob, exported.name);
  });
  chooseFiles(importButton, importInput, ([file]) => dispatch("importProject", [file]));

  return (state, previous) => {
    if (state.notice !== previous?.notice) showNotice(message, state.notice, OWN);
    enable(exportButton, can("exportProject"));
    enable(importInput, can("importProject"));
    enable(importButton, can("importProject"));
    enable(modelButton, can("downloadModel"));
  };
}
