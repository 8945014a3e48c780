// A single-file build carries its model, WASM binaries and worker script inside the page
// (browsers refuse to fetch files from file://): read them once at boot and hand them over from
// memory.

// Uint8Array.fromBase64 where the browser has it (Chromium 140 on), which is several times faster
// than atob and a loop over the characters.
export function decodeBase64(text) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text.trim());
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// The ImageNet classifier's files inside a single-file build, by name (read when its panel opens).
export function readEmbeddedImagenet(page) {
  const files = {};
  for (const element of page.querySelectorAll("script[data-imagenet]"))
    files[element.dataset.imagenet] = decodeBase64(element.textContent);
  return files;
}

export function blobUrl(content, type) {
  return URL.createObjectURL(new Blob([content], { type }));
}

// Makes `platform.fetch` (TF.js's, through which its WASM backend loads a binary when told to use
// it) answer each of `urls[file]` with `files[file]`, bytes a worker was handed: WebKit lets the
// worker of a page opened from file:// fetch no URL at all, not even a blob: URL the worker made.
export function serveFromMemory(platform, urls, files) {
  const bytesAt = new Map(Object.entries(files).map(([file, bytes]) => [urls[file], bytes]));
  const fetchUrl = platform.fetch.bind(platform);
  platform.fetch = (url, init) =>
    bytesAt.has(url)
      ? Promise.resolve(new Response(bytesAt.get(url), { headers: { "Content-Type": "application/wasm" } }))
      : fetchUrl(url, init);
}

// Returns {model: model artifacts, wasmUrls: {file name: blob URL}, wasmBinaries: {file name:
// bytes}, scripts: {bundle name: blob URL}} or null for a hosted build. Workers get the artifacts and bytes themselves: a
// page opened from file:// has no origin, and its workers may not fetch its blob URLs.
export function readEmbeddedAssets(page) {
  const modelElement = page.getElementById("teachkit-model");
  if (!modelElement) return null;
  const model = JSON.parse(modelElement.textContent);
  model.weightData = decodeBase64(page.getElementById("teachkit-weights").textContent).buffer;
  const wasmUrls = {};
  const wasmBinaries = {};
  for (const element of page.querySelectorAll("script[data-wasm]")) {
    wasmBinaries[element.dataset.wasm] = decodeBase64(element.textContent);
    wasmUrls[element.dataset.wasm] = blobUrl(wasmBinaries[element.dataset.wasm], "application/wasm");
  }
  // The workers' scripts, by the names the page config gives them (builder/prebuilt.py's BUNDLES).
  const scripts = {};
  for (const element of page.querySelectorAll("script[data-bundle]"))
    scripts[element.dataset.bundle] = blobUrl(element.textContent, "text/javascript");
  return { model, wasmUrls, wasmBinaries, scripts };
}
