// The session as files, read from the store: the project file (features/project.js, and a cloud
// copy with example images) and the trained model's download (features/model_export.js, and every
// cloud copy).
import { TeachkitError } from "../core/errors.js";
import { exportProject } from "./io.js";
import { modelDownload } from "./model_file.js";

// The whole session as a project file (a Blob): what "Save project file" saves, and what a cloud
// copy sends only when the visitor ticks "include my example images".
export async function projectFile({ store, project }) {
  const { dataset, settings, headRecord } = store.get();
  try {
    return await exportProject({
      title: project.title,
      regression: project.regression,
      dataset,
      settings,
      head: headRecord,
      modelFingerprint: project.model.fingerprint,
      base: project.model.identity,
      embeddingSize: project.model.embedding_size,
    });
  } catch (error) {
    throw new TeachkitError("failed", `The project file could not be made: ${error.message}`);
  }
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
