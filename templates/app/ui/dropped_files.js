// Files dropped on a zone, folders and all: the test panel's and the teacher's folder of test
// images (one sub-folder per class).

function entryFile(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

// Every file and folder under the dropped entries: {files: [{path, file}], folders: [path]}.
export async function readDropped(entries) {
  const files = [];
  const folders = [];
  async function walk(entry, path) {
    if (entry.isFile) {
      files.push({ path, file: await entryFile(entry) });
      return;
    }
    folders.push(path);
    const reader = entry.createReader();
    // A directory reader hands its entries out in batches (100 in Chromium) until it has none.
    for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
      for (const child of batch) await walk(child, `${path}/${child.name}`);
    }
  }
  for (const entry of entries) await walk(entry, entry.name);
  return { files, folders };
}

// Makes `zone` take drops (marked "dragging" while one hovers); `onDropped({files, folders})`
// hears each drop, read as readDropped reads it (plain files when the browser gives no entries).
export function acceptDrops(zone, onDropped) {
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    // The entries must be taken while the event is handled; reading them may come later.
    const entries = Array.from(event.dataTransfer?.items ?? [], (item) => item.webkitGetAsEntry?.()).filter(
      Boolean,
    );
    onDropped(
      entries.length
        ? await readDropped(entries)
        : {
            files: Array.from(event.dataTransfer?.files ?? [], (file) => ({ path: file.name, file })),
            folders: [],
          },
    );
  });
}
