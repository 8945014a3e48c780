// The project file: save the whole session as one zip, or replace it with one. An import is
// checked completely before anything is replaced.
import { TeachkitError } from "../core/errors.js";
import { Dataset } from "../learning/dataset.js";
import { restoreHead } from "../learning/head.js";
import { ProjectFileError, importProject } from "../files/io.js";
import { projectFile } from "../files/session_files.js";
import { mergeKnownSettings, settingChanges } from "../core/settings.js";
import { commit } from "../core/dataset_writes.js";
import { whenIdle } from "../core/guards.js";
import { reembed } from "../learning/sampling.js";

function fileName(title) {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${slug || "teachkit"}.teachkit.zip`;
}

async function readImport(context, file) {
  const { project } = context;
  const imported = importProject(new Uint8Array(await file.arrayBuffer()), {
    modelFingerprint: project.model.fingerprint,
    embeddingSize: project.model.embedding_size,
    regression: project.regression,
  });
  if (!imported.sameModel) imported.samples = await reembed(context, imported.samples);
  const head = imported.head
    ? restoreHead(imported.head.model, project.model.embedding_size, imported.samples)
    : null;
  return { imported, head };
}

export const actions = {
  // Resolves to {blob, name}: the project file and the name to save it under.
  exportProject: {
    can: whenIdle,
    async run(context) {
      const { store, project, notify } = context;
      const { dataset } = store.get();
      const blob = await projectFile(context);
      notify(`Saved ${dataset.samples.length} samples to a project file.`);
      return { blob, name: fileName(project.title) };
    },
  },

  // Replaces the session with a project file's (a File or Blob), or changes nothing.
  importProject: {
    can: whenIdle,
    async run(context, file) {
      const { store, project } = context;
      if (!(file instanceof Blob))
        throw new TeachkitError("bad_argument", "importProject needs the project file as a File or Blob.");
      const label = file.name ? `"${file.name}": ` : "";
      let read;
      try {
        read = await readImport(context, file);
      } catch (error) {
        const reason =
          error instanceof ProjectFileError
            ? error.message
            : `The project file could not be read: ${error.message}`;
        throw new TeachkitError("bad_project_file", `${label}${reason} Nothing was changed.`);
      }
      const { imported, head } = read;
      const { settings, ignored } = mergeKnownSettings(
        project.settings,
        store.get().settings,
        imported.settings,
      );
      try {
        await commit(context, () => ({
          stored: {
            replace: {
              classes: imported.classes,
              samples: imported.samples,
              head: imported.head,
              modelKey: project.model.fingerprint,
              settings: settingChanges(project, settings),
            },
          },
          show() {
            // Training takes the file's head and settings; prediction and undo start over.
            const record = head ? imported.head : null;
            context.events.emit("project-imported", { head, record, settings });
            store.set({ dataset: new Dataset(imported.classes, imported.samples) });
          },
        }));
      } catch (error) {
        head?.dispose();
        throw new TeachkitError(error.code ?? "storage", `${error.message} Nothing was changed.`);
      }
      const trained = head ? " and the trained model" : "";
      const kept = ignored.length
        ? ` Kept this page's ${ignored.join(", ")}: the file's were out of bounds.`
        : "";
      context.notify(
        `Imported ${imported.samples.length} samples in ${imported.classes.length} classes${trained}.${kept}`,
      );
    },
  },
};
