// The one preprocessing path of the page: the centre square of an image, video frame or canvas at
// input size. The canvas only copies pixels here (at scale 1, whole-pixel offsets, no smoothing);
// the shrink is resample.js, a port of PIL's bilinear resize, so every engine computes the same
// bytes as Python's builder/models/preprocess.py. The model gets these raw 0–255 pixels and
// normalizes them itself, exactly as in Python.
import { centerSquare, resizeBilinear } from "./resample.js";

// Pixels read from the canvas at a time: a 12-megapixel photo is read in about ten bands, so no
// canvas or buffer of the whole square is ever made (iOS refuses canvases over 16.7 megapixels).
const BAND_PIXELS = 1 << 20;

function sourceSize(source) {
  if (source instanceof HTMLVideoElement) return [source.videoWidth, source.videoHeight];
  if (source instanceof HTMLImageElement) return [source.naturalWidth, source.naturalHeight];
  return [source.width, source.height];
}

export class Cropper {
  constructor(inputSize) {
    this.inputSize = inputSize;
    this.canvas = document.createElement("canvas");
    this.canvas.width = inputSize;
    this.canvas.height = inputSize;
    // Kept in memory: every sample's JPEG and thumbnail are read from it.
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.band = document.createElement("canvas");
    this.bandContext = this.band.getContext("2d", { willReadFrequently: true });
  }

  // The centre square of `source` at input size: its pixels (a new ImageData, whose buffer the
  // caller may transfer); the canvas keeps the crop until the next call.
  crop(source) {
    const [width, height] = sourceSize(source);
    if (!width || !height) throw new Error("The image has no pixels.");
    const { left, top, side } = centerSquare(width, height);
    const bandRows = Math.min(side, Math.max(1, Math.floor(BAND_PIXELS / side)));
    if (this.band.width !== side || this.band.height !== bandRows) {
      this.band.width = side;
      this.band.height = bandRows;
    }
    const context = this.bandContext;
    const readRows = (firstRow, rows) => {
      // Opaque black under the image: its transparent parts read as black, not as the last band.
      context.fillStyle = "#000";
      context.fillRect(0, 0, side, rows);
      context.imageSmoothingEnabled = false;
      context.drawImage(source, left, top + firstRow, side, rows, 0, 0, side, rows);
      return context.getImageData(0, 0, side, rows).data;
    };
    const size = this.inputSize;
    const pixels = resizeBilinear({
      width: side,
      height: side,
      outWidth: size,
      outHeight: size,
      readRows,
      bandRows,
    });
    const image = new ImageData(pixels, size, size);
    this.context.putImageData(image, 0, 0);
    return image;
  }
}
