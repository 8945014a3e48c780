// Turning whatever a visitor or a host page hands in (a file, a Blob, an ImageBitmap, an <img>, a
// canvas, ImageData, a video) into something a canvas can draw, with a sentence when it cannot be.
import { TeachkitError } from "../core/errors.js";
import { decodeBase64 } from "../files/inlined.js";

function nameOf(image, index) {
  return image?.name ? `"${image.name}"` : `Image ${index + 1}`;
}

// Why a file cannot become a sample, or null if it may be tried.
function precheck(blob, name) {
  if (blob.type === "image/svg+xml" || /\.svg$/i.test(blob.name ?? "")) {
    return `${name} is an SVG drawing; use a photo (JPEG, PNG, WebP or GIF).`;
  }
  return null;
}

// Asked only once decoding failed: reading a chosen file's size waits on the browser's file system
// (about 2 ms a file, measured with 100 uploads).
function unreadable(name, blob = null) {
  if (blob?.size === 0) return `${name} is empty (0 bytes).`;
  return `${name} is not an image this browser can read, or it is damaged.`;
}

// Resolves to {source, close()} for a drawable image, or throws a TeachkitError("bad_image").
// `index` numbers images without a name in messages.
export async function openImage(image, index = 0) {
  const name = nameOf(image, index);
  if (image instanceof Blob) {
    const problem = precheck(image, name);
    if (problem) throw new TeachkitError("bad_image", problem);
    let bitmap;
    try {
      bitmap = await createImageBitmap(image);
    } catch {
      throw new TeachkitError("bad_image", unreadable(name, image));
    }
    return { source: bitmap, close: () => bitmap.close() };
  }
  if (typeof ImageData !== "undefined" && image instanceof ImageData) {
    const bitmap = await createImageBitmap(image);
    return { source: bitmap, close: () => bitmap.close() };
  }
  if (typeof HTMLImageElement !== "undefined" && image instanceof HTMLImageElement) {
    if (!image.complete || !image.naturalWidth) throw new TeachkitError("bad_image", unreadable(name));
    return { source: image, close: () => {} };
  }
  const drawable = [globalThis.ImageBitmap, globalThis.HTMLCanvasElement, globalThis.OffscreenCanvas];
  if (
    drawable.some((type) => type && image instanceof type) ||
    (globalThis.HTMLVideoElement && image instanceof HTMLVideoElement)
  ) {
    return { source: image, close: () => {} };
  }
  throw new TeachkitError(
    "bad_image",
    `${name} is not an image: pass a File, Blob, ImageBitmap, <img>, canvas or ImageData.`,
  );
}

// Synchronous on purpose: while the camera runs, Chromium may hold back the callback of the async
// canvas.toBlob for up to seconds (measured: 23 of 202 over 100 ms, the longest 1.7 s), which
// stalled hold-to-record; encoding a 224-pixel JPEG here takes a few milliseconds.
export function canvasJpeg(canvas, quality) {
  const base64 = canvas.toDataURL("image/jpeg", quality).split(",", 2)[1];
  return new Blob([decodeBase64(base64)], { type: "image/jpeg" });
}
