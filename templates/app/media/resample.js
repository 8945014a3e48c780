// The page's one resize, computed on pixels so that every engine gets the same bytes and those
// bytes equal Python's (builder/models/preprocess.py: PIL's `resize(..., BILINEAR)`). A canvas
// scaler cannot give that: Chromium, Firefox and WebKit each shrink with their own filter.
//
// This mirrors Pillow's ImagingResample for 8-bit images and the bilinear filter
// (src/libImaging/Resample.c: precompute_coeffs, normalize_coeffs_8bpc, the _8bpc passes): a
// triangle filter widened by the shrink factor (so it averages every source pixel it covers),
// weights computed in doubles, normalized to sum 1, then rounded to fixed point with 22 fractional
// bits; the horizontal pass first, rounded and clipped to 0–255, then the vertical pass. Every step
// below keeps Pillow's order of floating-point operations, which is what makes the result
// bit-identical (tests/test_resample.py checks it against PIL on photos of many sizes).
//
// No DOM here: the pixels come from a callback, a band of rows at a time, so a 12-megapixel photo
// never needs one canvas or one buffer of its full size.

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const OPAQUE = 0xff000000 | 0; // alpha 255 in a word

function triangle(x) {
  const distance = Math.abs(x);
  return distance < 1 ? 1 - distance : 0;
}

// For each output pixel: the first input pixel it reads, how many it reads, and their fixed-point
// weights (`size` slots per output pixel).
export function bilinearWeights(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support (1) times the filter scale
  const size = Math.ceil(support) * 2 + 1;
  const inverseScale = 1 / filterScale;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * size);
  const raw = new Float64Array(size);
  for (let out = 0; out < outSize; out += 1) {
    const center = (out + 0.5) * scale;
    // Truncation toward zero, like C's (int) cast.
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let x = 0; x < end - start; x += 1) {
      raw[x] = triangle((x + start - center + 0.5) * inverseScale);
      total += raw[x];
    }
    for (let x = 0; x < end - start; x += 1) {
      const weight = total !== 0 ? raw[x] / total : raw[x];
      weights[out * size + x] = Math.trunc(weight < 0 ? weight * ONE - 0.5 : weight * ONE + 0.5);
    }
    first[out] = start;
    count[out] = end - start;
  }
  return { first, count, weights, size };
}

// Pixels are read and written as 32-bit words (R | G << 8 | B << 16 | A << 24 on the
// little-endian machines browsers run on): one load per pixel instead of three. Every sum is
// HALF + Σ pixel × weight with weights ≥ 0 that sum to 2^22 (± rounding), so it stays below
// 256 << 22: 32-bit integer arithmetic (Math.imul, | 0) is exact and about a quarter faster than
// V8's checked arithmetic, and no value needs clipping (Pillow's clip8 never clips for this filter).

// One output pixel, packed: HALF + Σ pixel × weight over the input words `from`, `from + step`, …
// below `end`, with the weights from `weights[tap]` on.
function weighted(pixels, from, end, step, weights, tap) {
  let red = HALF;
  let green = HALF;
  let blue = HALF;
  for (; from < end; from += step, tap += 1) {
    const pixel = pixels[from];
    const weight = weights[tap];
    red = (red + Math.imul(pixel & 255, weight)) | 0;
    green = (green + Math.imul((pixel >>> 8) & 255, weight)) | 0;
    blue = (blue + Math.imul((pixel >>> 16) & 255, weight)) | 0;
  }
  return (
    (red >> PRECISION_BITS) | ((green >> PRECISION_BITS) << 8) | ((blue >> PRECISION_BITS) << 16) | OPAQUE
  );
}

// The horizontal pass over `rows` rows `width` pixels wide, into rows `intoRow`… of `into`
// (`taps.first.length` pixels wide).
function resizeRows(pixels, width, rows, taps, into, intoRow) {
  const { first, count, weights, size } = taps;
  const outWidth = first.length;
  let at = intoRow * outWidth;
  for (let row = 0; row < rows; row += 1) {
    const rowStart = row * width;
    for (let out = 0; out < outWidth; out += 1) {
      const from = rowStart + first[out];
      into[at] = weighted(pixels, from, from + count[out], 1, weights, out * size);
      at += 1;
    }
  }
}

// The vertical pass: `pixels` holds input rows `firstRow`… (`width` pixels wide).
function resizeColumns(pixels, width, firstRow, taps, into) {
  const { first, count, weights, size } = taps;
  let at = 0;
  for (let out = 0; out < first.length; out += 1) {
    const top = (first[out] - firstRow) * width;
    const end = top + count[out] * width;
    for (let x = 0; x < width; x += 1) {
      into[at] = weighted(pixels, top + x, end, width, weights, out * size);
      at += 1;
    }
  }
}

const words = (bytes) => new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);

// Resizes a width×height RGBA image to outWidth×outHeight (alpha is dropped: the result is
// opaque). `readRows(firstRow, rows)` returns those rows as RGBA bytes (Uint8ClampedArray or
// Uint8Array, `width * 4` a row, starting at a multiple of 4 bytes); it is asked for at most `bandRows` rows at a time, in order,
// and only for the rows the result depends on.
export function resizeBilinear({ width, height, outWidth, outHeight, readRows, bandRows = height }) {
  const vertical = bilinearWeights(height, outHeight);
  const horizontal = bilinearWeights(width, outWidth);
  const firstRow = vertical.first[0];
  const endRow = vertical.first[outHeight - 1] + vertical.count[outHeight - 1];
  const narrow = new Uint32Array(outWidth * (endRow - firstRow));
  for (let row = firstRow; row < endRow; row += bandRows) {
    const rows = Math.min(bandRows, endRow - row);
    resizeRows(words(readRows(row, rows)), width, rows, horizontal, narrow, row - firstRow);
  }
  const result = new Uint8ClampedArray(outWidth * outHeight * 4);
  resizeColumns(narrow, outWidth, firstRow, vertical, words(result));
  return result;
}

// The centred square of a width×height image, at whole-pixel offsets (rounded down, as Python's
// `(height - side) // 2`).
export function centerSquare(width, height) {
  const side = Math.min(width, height);
  return { left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2), side };
}
