// The project file: one zip (fflate) with the classes, every sample (embedding, thumbnail, crop),
// the training settings and the trained head. It moves a session between copies of the page
// (USB and hosted) and is validated completely before anything is replaced.
import { unzipSync, zipSync } from "fflate";

const FORMAT = "teachkit-project";
const VERSION = 1;
const MANIFEST = "teachkit-project.json";
const EMBEDDINGS = "embeddings.f32";
// Every name a project file may hold; anything else (paths, "..", other files) is refused.
const ID = "[A-Za-z0-9-]{1,64}";
const ALLOWED = new RegExp(
  `^(${MANIFEST.replace(".", "\\.")}|${EMBEDDINGS.replace(".", "\\.")}|(images|thumbs)/${ID}\\.jpg)$`,
);

export class ProjectFileError extends Error {}

async function bytesOf(blob) {
  return new Uint8Array(await blob.arrayBuffer());
}

// `base` is the base model's identity (the page config's model.identity), for teachkit export;
// `regression` the page's [regression] table on a page that predicts a number, else null.
export async function exportProject({
  title,
  regression = null,
  dataset,
  settings,
  head,
  modelFingerprint,
  base,
  embeddingSize,
}) {
  const embeddings = new Float32Array(dataset.samples.length * embeddingSize);
  const files = {};
  for (const [index, sample] of dataset.samples.entries()) {
    embeddings.set(sample.embedding, index * embeddingSize);
    files[`images/${sample.id}.jpg`] = [await bytesOf(sample.image), { level: 0 }];
    files[`thumbs/${sample.id}.jpg`] = [await bytesOf(sample.thumb), { level: 0 }];
  }
  const manifest = {
    format: FORMAT,
    version: VERSION,
    title,
    modelFingerprint,
    base,
    embeddingSize,
    task: regression ? "regression" : "classification",
    regression,
    classes: dataset.classes,
    samples: dataset.samples.map(({ id, classId, added, value }) => ({ id, classId, added, value })),
    settings,
    head: head
      ? { ...head, model: { ...head.model, weights: head.model.weights?.map((w) => Array.from(w)) } }
      : null,
  };
  files[MANIFEST] = new TextEncoder().encode(JSON.stringify(manifest));
  files[EMBEDDINGS] = new Uint8Array(embeddings.buffer);
  return new Blob([zipSync(files, { level: 6 })], { type: "application/zip" });
}

function fail(message) {
  throw new ProjectFileError(message);
}

// What a project file may unpack to, judged from the zip's directory before anything is inflated:
// a small file that unpacks to gigabytes (a "zip bomb") would otherwise exhaust the tab's memory.
const MAX_ENTRIES = 50_000;
const MAX_TOTAL = 1024 ** 3;
const MAX_ENTRY = {
  [MANIFEST]: 64 * 1024 ** 2,
  [EMBEDDINGS]: 512 * 1024 ** 2,
  picture: 8 * 1024 ** 2,
};
// Deflate never makes data much larger, so an entry stored bigger than it claims to unpack to is
// lying about its size (fflate inflates into a buffer of the claimed size).
const DEFLATE_SLACK = 64 * 1024;

function megabytes(bytes) {
  return `${Math.round(bytes / 1024 ** 2)} MB`;
}

function checkEntries(bytes) {
  let count = 0;
  let total = 0;
  unzipSync(bytes, {
    filter({ name, size, originalSize }) {
      count += 1;
      total += originalSize;
      if (count > MAX_ENTRIES) fail(`The project file has more than ${MAX_ENTRIES} entries.`);
      if (!ALLOWED.test(name))
        fail(`The project file contains "${name}", which does not belong in one; it was not imported.`);
      const limit = MAX_ENTRY[name] ?? MAX_ENTRY.picture;
      if (originalSize > limit)
        fail(
          `"${name}" in the project file would unpack to ${megabytes(originalSize)} (at most ${megabytes(limit)}).`,
        );
      if (total > MAX_TOTAL)
        fail(`The project file would unpack to more than ${megabytes(MAX_TOTAL)}; it was not imported.`);
      if (size > originalSize * 1.01 + DEFLATE_SLACK)
        fail(`The project file is damaged: "${name}" is larger than the size it claims.`);
      return false; // judged only: nothing is inflated in this pass
    },
  });
}

function unzip(bytes) {
  try {
    checkEntries(bytes);
    return unzipSync(bytes);
  } catch (error) {
    if (error instanceof ProjectFileError) throw error;
    return fail(`This is not a teachkit project file, or it is damaged (${error.message}).`);
  }
}

function readManifest(files) {
  if (!files[MANIFEST])
    fail("This zip file is not a teachkit project file (it has no teachkit-project.json).");
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(files[MANIFEST]));
  } catch {
    fail("The project file is damaged: its teachkit-project.json cannot be read.");
  }
  if (manifest?.format !== FORMAT) fail("This zip file is not a teachkit project file.");
  if (manifest.version !== VERSION)
    fail(`This project file has version ${manifest.version}; this page reads version ${VERSION}.`);
  return manifest;
}

function checkStructure(manifest, regression) {
  const task = manifest.task ?? "classification"; // files from before regression heads
  if ((task === "regression") !== Boolean(regression))
    fail(
      regression
        ? "The project file's samples are classes, but this page predicts a number."
        : "The project file's samples are numbers (a regression model), but this page predicts classes.",
    );
  const classes = manifest.classes;
  if (!Array.isArray(classes) || classes.length < (regression ? 1 : 2))
    fail(
      regression
        ? "The project file has no group of samples."
        : "The project file has fewer than two classes.",
    );
  const names = new Set();
  for (const item of classes) {
    if (
      typeof item?.id !== "string" ||
      typeof item?.name !== "string" ||
      !item.name.trim() ||
      item.name.length > 40
    ) {
      fail("The project file has a class without a proper name.");
    }
    if (names.has(item.name.toLocaleLowerCase()))
      fail(`The project file names the class "${item.name}" twice.`);
    names.add(item.name.toLocaleLowerCase());
  }
  const classIds = new Set(classes.map((item) => item.id));
  if (!Array.isArray(manifest.samples)) fail("The project file has no sample list.");
  for (const sample of manifest.samples) {
    if (!new RegExp(`^${ID}$`).test(sample?.id ?? "") || !classIds.has(sample.classId)) {
      fail("The project file has a sample that belongs to no class.");
    }
    if (regression && !Number.isFinite(sample.value))
      fail("The project file has a sample without its number.");
  }
  if (!Number.isInteger(manifest.embeddingSize) || manifest.embeddingSize < 1)
    fail("The project file has no embedding size.");
}

// Returns {classes, samples, settings, head, sameModel}; throws ProjectFileError and changes nothing.
// `regression` is the page's [regression] table, or null: a file of the other kind is refused.
export function importProject(bytes, { modelFingerprint, embeddingSize, regression = null }) {
  const files = unzip(bytes);
  const manifest = readManifest(files);
  checkStructure(manifest, regression);
  const size = manifest.embeddingSize;
  const raw = files[EMBEDDINGS];
  if (!raw || raw.byteLength !== manifest.samples.length * size * 4)
    fail("The project file's embeddings are incomplete.");
  const embeddings = new Float32Array(raw.slice().buffer);
  const samples = manifest.samples.map((sample, index) => {
    const image = files[`images/${sample.id}.jpg`];
    const thumb = files[`thumbs/${sample.id}.jpg`];
    if (!image || !thumb) fail("The project file is missing the picture of a sample.");
    return {
      id: sample.id,
      classId: sample.classId,
      added: Number(sample.added) || index,
      ...(regression ? { value: sample.value } : {}),
      embedding: embeddings.slice(index * size, (index + 1) * size),
      image: new Blob([image], { type: "image/jpeg" }),
      thumb: new Blob([thumb], { type: "image/jpeg" }),
    };
  });
  const sameModel = manifest.modelFingerprint === modelFingerprint && size === embeddingSize;
  const classIds = new Set(manifest.classes.map((item) => item.id));
  let head = null;
  if (sameModel && manifest.head && manifest.head.classIds?.every((id) => classIds.has(id))) {
    const model = manifest.head.model;
    head = { ...manifest.head, model: { ...model, weights: model.weights?.map((w) => new Float32Array(w)) } };
  }
  return {
    classes: manifest.classes.map(({ id, name }) => ({ id, name })),
    samples,
    settings: manifest.settings,
    head,
    sameModel,
  };
}
