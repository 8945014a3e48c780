// The page's timeline so far: when its own scripts and its first worker's script had arrived, told
// apart by how each was fetched (a script element, or a worker: initiatorType "other" in Chromium)
// among `scripts`, the site's scripts as its manifest.json lists them; DOMContentLoaded (the page's
// scripts evaluated); when the WASM binaries and the model were asked for and had arrived.
({ scripts }) => {
  const site = new Set(scripts.map((path) => new URL(path, location.href).pathname));
  const [navigation] = performance.getEntriesByType("navigation");
  const ends = { app: 0, worker: Infinity, dcl: navigation.domContentLoadedEventEnd, wasm: 0, model: null };
  ends.wasmStart = Infinity;
  ends.modelStart = null; // the workers fetch the model: their requests are not in this timeline
  for (const entry of performance.getEntriesByType("resource")) {
    const path = new URL(entry.name).pathname;
    if (site.has(path) && entry.initiatorType === "script") ends.app = Math.max(ends.app, entry.responseEnd);
    // The first worker's script; the second worker fetches it again once the first is ready.
    if (site.has(path) && entry.initiatorType === "other")
      ends.worker = Math.min(ends.worker, entry.responseEnd);
    if (path.includes("/wasm/")) {
      ends.wasm = Math.max(ends.wasm, entry.responseEnd);
      ends.wasmStart = Math.min(ends.wasmStart, entry.startTime);
    }
    if (path.includes("/model/")) {
      ends.model = Math.max(ends.model ?? 0, entry.responseEnd);
      ends.modelStart = Math.min(ends.modelStart ?? Infinity, entry.startTime);
    }
  }
  return ends;
};
