// Runs the page's crop + resize (templates/app/media/resample.js) under plain Node, for
// tests/test_resample.py: for each job, reads a raw RGB image, takes its centred square a band of
// rows at a time as the page does (RGBA, as getImageData gives them) and writes the size×size
// result as raw RGB.
// Usage: node resample_node.mjs jobs.json, where jobs.json is
// [{input, width, height, size, bandRows, output}].
import { readFileSync, writeFileSync } from "node:fs";
import { centerSquare, resizeBilinear } from "../../templates/app/media/resample.js";

for (const job of JSON.parse(readFileSync(process.argv[2], "utf8"))) {
  const rgb = readFileSync(job.input);
  const { left, top, side } = centerSquare(job.width, job.height);
  const readRows = (firstRow, rows) => {
    const band = new Uint8ClampedArray(side * rows * 4);
    for (let row = 0; row < rows; row += 1) {
      for (let x = 0; x < side; x += 1) {
        const from = ((top + firstRow + row) * job.width + left + x) * 3;
        const to = (row * side + x) * 4;
        band[to] = rgb[from];
        band[to + 1] = rgb[from + 1];
        band[to + 2] = rgb[from + 2];
        band[to + 3] = 255;
      }
    }
    return band;
  };
  const rgba = resizeBilinear({
    width: side,
    height: side,
    outWidth: job.size,
    outHeight: job.size,
    readRows,
    bandRows: job.bandRows,
  });
  const out = Buffer.alloc(job.size * job.size * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i];
    out[j + 1] = rgba[i + 1];
    out[j + 2] = rgba[i + 2];
  }
  writeFileSync(job.output, out);
}
