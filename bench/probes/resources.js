() => {
  const [navigation] = performance.getEntriesByType("navigation");
  const ends = { app: 0, worker: Infinity, dcl: navigation.domContentLoadedEventEnd, wasm: 0, model: null };
  ends.wasmStart = Infinity;
  ends.modelStart = null; // the workers fetch the model: their requests are not in this timeline
  for (const entry of performance.getEntriesByType("resource")) {
    const path = new URL(entry.name).pathname;
    if (path.endsWith("app.js")) ends.app = Math.max(ends.app, entry.responseEnd);
    // The first worker's script; the second worker fetches it again once the first is ready.
    if (path.endsWith("embed-worker.js")) ends.worker = Math.min(ends.worker, entry.responseEnd);
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
