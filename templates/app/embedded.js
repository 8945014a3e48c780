// A single-file build carries its model and WASM binaries inside the page (browsers refuse to
// fetch files from file://): read them once at boot and hand them to TF.js from memory.
import * as tf from "@tensorflow/tfjs-core";

function decodeBase64(text) {
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Returns {model: IOHandler, wasmUrls: {file name: blob URL}} or null for a hosted build.
export function readEmbeddedAssets(page) {
  const modelElement = page.getElementById("teachkit-model");
  if (!modelElement) return null;
  const artifacts = JSON.parse(modelElement.textContent);
  artifacts.weightData = decodeBase64(page.getElementById("teachkit-weights").textContent).buffer;
  const wasmUrls = {};
  for (const element of page.querySelectorAll("script[data-wasm]")) {
    const bytes = decodeBase64(element.textContent);
    wasmUrls[element.dataset.wasm] = URL.createObjectURL(new Blob([bytes], { type: "application/wasm" }));
  }
  return { model: tf.io.fromMemory(artifacts), wasmUrls };
}
