// The one preprocessing path of the page: the centre square of an image, video frame or canvas,
// drawn onto an input-sized canvas. The model gets these raw 0–255 pixels and normalizes them
// itself, exactly as in Python.

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
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.context.imageSmoothingQuality = "high";
  }

  // Draws the centre square of `source` at input size and returns its pixels (an ImageData); the
  // canvas keeps the crop until the next call.
  crop(source) {
    const [width, height] = sourceSize(source);
    if (!width || !height) throw new Error("The image has no pixels.");
    const side = Math.min(width, height);
    const size = this.inputSize;
    this.context.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
    return this.context.getImageData(0, 0, size, size);
  }
}
