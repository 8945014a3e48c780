// io.js: the project file, written and read back, and the files it refuses before changing anything.
import assert from "node:assert/strict";
import { test } from "node:test";
import { strToU8, zipSync } from "fflate";
import { Dataset } from "../../templates/app/learning/dataset.js";
import { ProjectFileError, exportProject, importProject } from "../../templates/app/files/io.js";

const SIZE = 3;
const MODEL = { modelFingerprint: "model-a", embeddingSize: SIZE };

function session() {
  const classes = [
    { id: "class-a", name: "Brick" },
    { id: "class-b", name: "Grass" },
  ];
  const samples = [0, 1, 2].map((n) => ({
    id: `sample-${n}`,
    classId: n ? "class-b" : "class-a",
    added: 100 + n,
    embedding: Float32Array.of(n, n + 0.5, -n),
    image: new Blob([Uint8Array.of(0xff, 0xd8, n)], { type: "image/jpeg" }),
    thumb: new Blob([Uint8Array.of(0xff, 0xd8, n, n)], { type: "image/jpeg" }),
  }));
  const head = {
    model: { kind: "dense", classIds: ["class-a", "class-b"], weights: [Float32Array.of(0.5, -1.25)] },
    classIds: ["class-a", "class-b"],
    history: [{ epoch: 1, loss: 0.5 }],
  };
  return {
    title: "Surfaces",
    dataset: new Dataset(classes, samples),
    settings: { head: { type: "dense" }, training: { epochs: 7 } },
    head,
    ...MODEL,
    base: { base: "efficientnet_lite0" },
  };
}

async function bytesOf(blob) {
  return new Uint8Array(await blob.arrayBuffer());
}

test("a project file reads back as the same classes, samples, settings and head", async () => {
  const written = session();
  const blob = await exportProject(written);
  assert.equal(blob.type, "application/zip");
  const read = importProject(await bytesOf(blob), MODEL);
  assert.deepEqual(read.classes, written.dataset.classes);
  assert.deepEqual(read.settings, written.settings);
  assert.equal(read.sameModel, true);
  assert.deepEqual(
    read.samples.map(({ id, classId, added, embedding }) => ({ id, classId, added, embedding })),
    written.dataset.samples.map(({ id, classId, added, embedding }) => ({ id, classId, added, embedding })),
  );
  for (const [index, sample] of read.samples.entries()) {
    assert.deepEqual(await bytesOf(sample.image), await bytesOf(written.dataset.samples[index].image));
    assert.deepEqual(await bytesOf(sample.thumb), await bytesOf(written.dataset.samples[index].thumb));
  }
  assert.deepEqual(read.head.model.weights, [Float32Array.of(0.5, -1.25)]);
  assert.deepEqual(read.head.history, written.head.history);
});

test("a file from another base model keeps its samples but not its head", async () => {
  const bytes = await bytesOf(await exportProject(session()));
  const read = importProject(bytes, { modelFingerprint: "model-b", embeddingSize: SIZE });
  assert.equal(read.sameModel, false);
  assert.equal(read.head, null);
  assert.equal(read.samples.length, 3);
});

// A zip holding `files` (name → text or bytes) next to a valid manifest, changed by `edit`.
function zipWith(edit = (manifest) => manifest, files = {}) {
  const manifest = edit({
    format: "teachkit-project",
    version: 1,
    embeddingSize: SIZE,
    classes: [
      { id: "a", name: "Brick" },
      { id: "b", name: "Grass" },
    ],
    samples: [],
    settings: {},
    head: null,
  });
  const entries = {
    "teachkit-project.json": strToU8(JSON.stringify(manifest)),
    "embeddings.f32": new Uint8Array(),
  };
  for (const [name, content] of Object.entries(files))
    entries[name] = typeof content === "string" ? strToU8(content) : content;
  return zipSync(entries);
}

test("a valid file without samples is read", () => {
  assert.deepEqual(
    importProject(zipWith(), MODEL).classes.map((item) => item.name),
    ["Brick", "Grass"],
  );
});

test("a damaged or foreign file is refused with a sentence that says what is wrong", () => {
  const refused = (bytes, message, options = MODEL) =>
    assert.throws(
      () => importProject(bytes, options),
      (error) => {
        assert.ok(error instanceof ProjectFileError);
        assert.equal(error.message, message);
        return true;
      },
    );
  refused(
    zipWith(undefined, { "../evil.sh": "rm -rf" }),
    'The project file contains "../evil.sh", which does not belong in one; it was not imported.',
  );
  refused(
    zipWith((m) => ({ ...m, version: 2 })),
    "This project file has version 2; this page reads version 1.",
  );
  refused(
    zipWith((m) => ({ ...m, format: "other" })),
    "This zip file is not a teachkit project file.",
  );
  refused(
    zipWith((m) => ({ ...m, classes: [m.classes[0]] })),
    "The project file has fewer than two classes.",
  );
  refused(
    zipWith((m) => ({ ...m, classes: [m.classes[0], { id: "c", name: "brick" }] })),
    'The project file names the class "brick" twice.',
  );
  refused(
    zipWith((m) => ({ ...m, samples: [{ id: "s1", classId: "nowhere" }] })),
    "The project file has a sample that belongs to no class.",
  );
  refused(
    zipWith((m) => ({ ...m, samples: [{ id: "s1", classId: "a" }] })),
    "The project file's embeddings are incomplete.",
  );
  refused(zipWith(), "The project file's samples are classes, but this page predicts a number.", {
    ...MODEL,
    regression: { label: "Age", min: 0, max: 10 },
  });
  refused(
    zipSync({ "notes.txt": strToU8("hello") }),
    'The project file contains "notes.txt", which does not belong in one; it was not imported.',
  );
  assert.throws(() => importProject(strToU8("not a zip at all"), MODEL), {
    message: /^This is not a teachkit project file, or it is damaged \(/,
  });
});

// `bytes` with the size its central directory claims for every entry set to `claimed`.
function claimingSize(bytes, claimed) {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  for (let offset = 0; offset + 4 <= copy.length; offset += 1)
    if (view.getUint32(offset, true) === 0x02014b50) view.setUint32(offset + 24, claimed, true);
  return copy;
}

test("a file that claims to unpack to more than a picture may be is refused before inflating", () => {
  const bytes = zipWith(undefined, { "images/a.jpg": new Uint8Array(10) });
  assert.throws(() => importProject(claimingSize(bytes, 9 * 1024 ** 2), MODEL), {
    message: '"images/a.jpg" in the project file would unpack to 9 MB (at most 8 MB).',
  });
});
