// The JS heap (performance.memory, with --enable-precise-memory-info), TF.js's tensors, the WASM
// heap and what IndexedDB holds.
async () => {
  const engine = window._tfengine;
  const tensors = engine?.memory();
  const storage = await navigator.storage.estimate();
  return {
    usedJSHeapSize: performance.memory.usedJSHeapSize,
    totalJSHeapSize: performance.memory.totalJSHeapSize,
    tfTensors: tensors?.numTensors ?? null,
    tfBytes: tensors?.numBytes ?? null,
    wasmHeapBytes: engine?.backend?.wasm?.HEAPU8?.buffer?.byteLength ?? null,
    indexedDbBytes: storage.usage ?? null,
    samples: window.teachkit.classes().reduce((sum, item) => sum + item.count, 0),
  };
};
