// resample.js: the page's one resize (tests/test_resample.py compares it with PIL on photos).
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { bilinearWeights, centerSquare, resizeBilinear } from "../../templates/app/media/resample.js";

function noise(width, height, seed) {
  const random = seededRandom(seed);
  return Uint8ClampedArray.from({ length: width * height * 4 }, () => Math.floor(random() * 256));
}

function resize(pixels, width, height, outWidth, outHeight, bandRows = height) {
  const asked = [];
  const result = resizeBilinear({
    width,
    height,
    outWidth,
    outHeight,
    bandRows,
    readRows: (firstRow, rows) => {
      asked.push([firstRow, rows]);
      return pixels.slice(firstRow * width * 4, (firstRow + rows) * width * 4);
    },
  });
  return { result, asked };
}

test("the centre square is at whole-pixel offsets, rounded down as in Python", () => {
  assert.deepEqual(centerSquare(640, 480), { left: 80, top: 0, side: 480 });
  assert.deepEqual(centerSquare(3, 10), { left: 0, top: 3, side: 3 });
  assert.deepEqual(centerSquare(5, 5), { left: 0, top: 0, side: 5 });
});

test("every output pixel's weights sum to one in 22-bit fixed point", () => {
  for (const [inSize, outSize] of [
    [1000, 224],
    [224, 224],
    [100, 300],
    [7, 3],
  ]) {
    const { first, count, weights, size } = bilinearWeights(inSize, outSize);
    for (let out = 0; out < outSize; out += 1) {
      let sum = 0;
      for (let tap = 0; tap < count[out]; tap += 1) sum += weights[out * size + tap];
      assert.ok(Math.abs(sum - (1 << 22)) <= count[out], `${inSize}→${outSize}, pixel ${out}: ${sum}`);
      assert.ok(first[out] >= 0 && first[out] + count[out] <= inSize);
    }
  }
});

test("a plain colour stays that colour, opaque, at any size", () => {
  const pixels = new Uint8ClampedArray(37 * 23 * 4);
  for (let i = 0; i < pixels.length; i += 4) pixels.set([200, 10, 99, 0], i);
  const { result } = resize(pixels, 37, 23, 11, 8);
  assert.equal(result.length, 11 * 8 * 4);
  for (let i = 0; i < result.length; i += 4)
    assert.deepEqual([...result.subarray(i, i + 4)], [200, 10, 99, 255]);
});

test("at the same size the pixels come through unchanged", () => {
  const pixels = noise(9, 9, 1);
  const { result } = resize(pixels, 9, 9, 9, 9);
  for (let i = 0; i < result.length; i += 4) {
    assert.deepEqual([...result.subarray(i, i + 3)], [...pixels.subarray(i, i + 3)]);
    assert.equal(result[i + 3], 255);
  }
});

test("reading a band of rows at a time gives the same bytes as reading all at once", () => {
  const pixels = noise(120, 90, 2);
  const whole = resize(pixels, 120, 90, 24, 24);
  const banded = resize(pixels, 120, 90, 24, 24, 7);
  assert.deepEqual(banded.result, whole.result);
  assert.ok(banded.asked.every(([, rows]) => rows <= 7));
  assert.equal(whole.asked.length, 1);
});
