// "Download model": the trained head with the base model, for other pages (embed.js load()),
// plain TF.js and `teachkit export`. No state of its own.
import { refusal } from "../core/errors.js";
import { modelDownload } from "../files/model_file.js";
import { whenReady } from "../core/guards.js";

function fileName(title) {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${slug || "teachkit"}.teachkit-model.zip`;
}

// The trained model as the download's zip (a Blob): what "Download model" saves and what the
// cloud copy sends.
export function trainedModelPackage({ store, project, options }, title = project.title) {
  const { dataset, headRecord } = store.get();
  return modelDownload({
    title,
    record: headRecord,
    classNames: new Map(dataset.classes.map((item) => [item.id, item.name])),
    identity: project.model.identity,
    embeddingSize: project.model.embedding_size,
    modelSource: options.model,
    teachkitVersion: project.teachkit,
    samples: dataset.samples,
    regression: project.regression,
  });
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
