// What this browser's WebAssembly can run, tested as TF.js and LiteRT.js test it: by validating a
// tiny module that uses one instruction of the feature. The page decides from it which runtimes to
// try (runtime_ladder.js), for its workers too. No imports: litert-start.js uses it.

// One instruction of each feature (the modules TF.js and LiteRT.js use): i8x16.splat, then (for
// relaxed SIMD) i8x16.relaxed_swizzle.
const EMPTY_MODULE = [0, 97, 115, 109, 1, 0, 0, 0];
const SIMD_MODULE = [...EMPTY_MODULE, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11];
const RELAXED_SIMD_MODULE = [
  ...EMPTY_MODULE,
  ...[1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11],
];

function validates(bytes) {
  try {
    return WebAssembly.validate(new Uint8Array(bytes));
  } catch {
    return false;
  }
}

// {wasm, simd, relaxedSimd}: what this browser's WebAssembly can run.
export function wasmFeatures() {
  const wasm = typeof WebAssembly === "object" && validates(EMPTY_MODULE);
  const simd = wasm && validates(SIMD_MODULE);
  return { wasm, simd, relaxedSimd: simd && validates(RELAXED_SIMD_MODULE) };
}

// The LiteRT.js build a page tries first, or null without SIMD; ?litert=compat skips relaxed.
export function firstLiteRtBuild(features, requested) {
  if (!features.simd) return null;
  return features.relaxedSimd && requested !== "compat" ? "relaxed" : "compat";
}
