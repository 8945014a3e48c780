// Saving and moving a session: export the project file (a download) and import one.
import { byTestId } from "./dom.js";

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export class ProjectView {
  constructor(app) {
    this.exportButton = byTestId("export-project");
    this.importInput = byTestId("import-project");
    this.exportButton.addEventListener("click", async () => {
      const exported = await app.exportProject();
      if (exported) download(exported.blob, exported.name);
    });
    this.importInput.addEventListener("change", async () => {
      const [file] = this.importInput.files;
      this.importInput.value = "";
      if (file) await app.importProjectFile(file);
    });
  }

  render(state) {
    const ready = state.status === "ready" && state.training.state !== "training";
    this.exportButton.disabled = !ready;
    this.importInput.disabled = !ready;
  }
}
