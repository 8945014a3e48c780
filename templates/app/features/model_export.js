// "Download model": the trained head with the base model, for other pages (embed.js load()),
// plain TF.js and `teachkit export`. No state of its own.
import { refusal } from "../core/errors.js";
import { trainedModelPackage } from "../files/session_files.js";
import { whenReady } from "../core/guards.js";

function fileName(title) {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${slug || "teachkit"}.teachkit-model.zip`;
}

export const actions = {
  // Resolves to {blob, name}.
  downloadModel: {
    can: (state) =>
      whenReady(state) ??
      (state.head ? null : refusal("not_trained", "Train the model before downloading it.")),
    async run(context) {
      const { project, notify } = context;
      const blob = await trainedModelPackage(context);
      notify(`Saved the trained model (${(blob.size / 1e6).toFixed(1)} MB).`);
      return { blob, name: fileName(project.title) };
    },
  },
};
