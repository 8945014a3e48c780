// Why the head gave its answer: where in the image the evidence is. Pure computations beneath
// `teachkit.explain` (no DOM, no store; the heads own the few tensors they make).
//
// Contract
// - A feature map `map` is the base model's last feature map for one image: a Float32Array of
//   rows × cols × channels, row-major from the top-left of the model's centre-square crop,
//   channels last (Lite0 at 224 px: 7 × 7 × 1280). The embedding is exactly the mean of its
//   rows × cols cell vectors. The embedders' embedWithMap gives {embedding, map, rows, cols}: pass
//   its `map`, and the object itself as the grid.
// - classActivationMap(head, map, {rows, cols, embedding}, classId) → {rows, cols, values, exact}:
//   `values` is a Float32Array(rows * cols), row-major from the top-left of the crop; larger means
//   more evidence for the class `classId` (one of head.classIds; ignored by a regression head,
//   whose values are evidence for a larger number). `embedding` is the image's embedding as the
//   prediction saw it (the base model's own output; the map's mean when left out): the mean of a
//   dense or regression head's values is the head's score of that embedding, so the cells add up to
//   the prediction's logit in every runtime. `exact` is true only when the values are an exact
//   decomposition: a head without a hidden layer, where each value is what the head would answer
//   for an image made of that region alone (give or take one constant shared by every cell, the
//   embedding's difference from the map's mean: 0 in TF.js, int8 rounding in an int8 .tflite). Compare cells with each other: a dense head's
//   logits may all be negative (the softmax ignores a shift shared by every class), so a map is
//   best shown scaled to its own range. For a kNN head (and occlusion) the sign means something
//   too: above 0, the region looks more like this class than like any other.
// - occlusionPatches(image, rows, cols) yields the image with one cell greyed at a time;
//   occlusionScorer(head, embedding, classId) gives the class's score of an embedding;
//   occlusionValues(baseScore, scores) turns the class's scores on those images into the drop per
//   cell (larger = hiding that cell lowered the class's score more): the same layout and meaning of
//   `values` as a class activation map, for any head and any runtime. In short:
//     score = occlusionScorer(head, embedding, classId)
//     values = occlusionValues(score(embedding), [for each patch: score(await embed(patch.pixels))])
// - strongestRegions, regionsSentence and occlusionSentence name the cells in plain words.
import { TeachkitError } from "../core/errors.js";

// The grey of an occluding patch: 128 on every channel. The models read (x − 127) / 128 (Lite0) or
// x / 127.5 − 1 (MobileNet), so mid-grey is (almost) their zero input, the value carrying least
// signal; it is also the same for every image, so the moving patch looks the same on every photo.
// The image's own mean colour was the alternative, but on a photo filled by its object (a red apple)
// that mean is the object's colour, and hiding with it would leave part of the evidence in place.
export const OCCLUSION_GREY = 128;

function checkedShape(head, map, rows, cols) {
  // The embedders answer map: null (rows = cols = 0) for a base model without one.
  if (!map)
    throw new TeachkitError(
      "not_supported",
      'This base model hands out no feature map, so it cannot show where the evidence is; the method "occlusion" works with any model.',
    );
  const cells = rows * cols;
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0))
    throw new Error(`A feature map needs whole numbers of rows and columns (got ${rows} × ${cols}).`);
  if (!map?.length || map.length % cells)
    throw new Error(
      `A feature map of ${map?.length ?? 0} numbers is not ${rows} × ${cols} cells of equal size.`,
    );
  const channels = map.length / cells;
  checkedHead(head, channels, "feature map has");
  return { cells, channels };
}

function checkedHead(head, size, what) {
  if (head.embeddingSize === null)
    throw new TeachkitError("not_trained", "Train the model before asking why it answered.");
  if (size !== head.embeddingSize)
    throw new Error(
      `The ${what} ${size} channels but the model's embeddings have ${head.embeddingSize}: they come from different base models.`,
    );
}

// The mean of the cell vectors (the embedding), summed in double precision.
function pooled(map, cells, channels) {
  const sum = new Float64Array(channels);
  for (let cell = 0; cell < cells; cell += 1) {
    const offset = cell * channels;
    for (let i = 0; i < channels; i += 1) sum[i] += map[offset + i];
  }
  return Float32Array.from(sum, (value) => value / cells);
}

function cellDot(map, cell, channels, vector) {
  let sum = 0;
  const offset = cell * channels;
  for (let i = 0; i < channels; i += 1) sum += map[offset + i] * vector[i];
  return sum;
}

function classIndex(head, classId) {
  if (head.kind === "regression") return 0;
  const index = head.classIds.indexOf(classId);
  if (index < 0) throw new TeachkitError("unknown_class", "The model has no class by that name.");
  return index;
}

// Dense and regression heads, one definition for both shapes of head:
//   value_ij = α·(f_ij − f̄) + score,   α = ∂score/∂e and score the head's, at the embedding e,
// f̄ the mean of the cells. The score is the output before the softmax (the logit): it is what adds
// up over the cells, the probabilities do not. Without a hidden layer α = w_c and score = w_c·e + b_c,
// so the value is w_c·f_ij + b_c + w_c·(e − f̄): the logit the head gives that cell alone (e = f̄ in
// a float model; an int8 model rounds its embedding apart from its map's mean, and the shared
// constant keeps the mean of the cells equal to the prediction's own logit). With hidden layers this is Grad-CAM on the pooled vector (the head's gradient only, no
// gradient through the base, which the WASM backend and LiteRT.js cannot compute): the first-order
// estimate of the score for an image made of that cell alone. The constant spreads what the
// linearization does not explain evenly, so the mean of the cells is still exactly the score and a
// student's check "the squares add up to the answer" holds for every dense head. Grad-CAM's usual
// ReLU is left out: it would cut at zero, an arbitrary level for a logit, and break that check.
function denseMap(head, map, cells, channels, index, embedding) {
  const { score, gradient } = head.scoreGradient(embedding, index);
  const mean = pooled(map, cells, channels);
  let along = 0;
  for (let i = 0; i < channels; i += 1) along += gradient[i] * mean[i];
  const constant = score - along;
  const values = new Float32Array(cells);
  for (let cell = 0; cell < cells; cell += 1)
    values[cell] = cellDot(map, cell, channels, gradient) + constant;
  return { values, exact: head.linear };
}

// k nearest neighbours: each cell's cosine with the class's reference minus its best cosine with
// any other class's. The reference is the mean direction of the class's k training samples most
// similar to the whole image: the samples the head's vote looks at (and the page shows as the
// nearest examples), averaged so that no single photo decides; the class's mean over all its
// samples was the alternative, simpler but blind to which of a varied class's photos this image
// resembles. The contrast matters: feature maps after ReLU6 are non-negative, so every cell has a
// positive cosine with every class, and only the difference says which class a region favours.
function knnMap(head, map, cells, channels, index, embedding) {
  const references = head.classReferences(embedding);
  const values = new Float32Array(cells);
  for (let cell = 0; cell < cells; cell += 1) values[cell] = contrast(map, cell, channels, references, index);
  return { values, exact: false };
}

// Cell `cell` of `map` (or a whole embedding: cell 0 of its own length): its cosine with the unit
// vector references[index] minus its best cosine with another class's; 0 for a class without
// samples (no evidence anywhere), and a class alone is compared with nothing.
function contrast(map, cell, channels, references, index) {
  const own = references[index];
  if (!own) return 0;
  const length = Math.sqrt(
    cellDot(map, cell, channels, map.subarray(cell * channels, (cell + 1) * channels)),
  );
  const cosine = (reference) => (length ? cellDot(map, cell, channels, reference) / length : 0);
  let rival = -Infinity;
  references.forEach((reference, other) => {
    if (reference && other !== index) rival = Math.max(rival, cosine(reference));
  });
  return cosine(own) - (rival === -Infinity ? 0 : rival);
}

// The class activation map of `head` (a DenseHead, RegressionHead or KnnHead) for `classId`.
export function classActivationMap(head, map, { rows, cols, embedding }, classId) {
  const { cells, channels } = checkedShape(head, map, rows, cols);
  const index = classIndex(head, classId);
  const seen = embedding ?? pooled(map, cells, channels);
  if (seen.length !== channels)
    throw new Error(`The embedding has ${seen.length} numbers but the feature map's cells ${channels}.`);
  const { values, exact } =
    head.kind === "knn"
      ? knnMap(head, map, cells, channels, index, seen)
      : denseMap(head, map, cells, channels, index, seen);
  return { rows, cols, values, exact };
}

// Where cell `index` of `count` starts along a side of `size` pixels. Rounded, so the cells tile the
// side exactly and differ by at most one pixel when `size` is not a multiple of `count` (224 / 7 is
// 32 exactly; 200 px over 7 cells gives 28 or 29). A stride-32 network's cell sees more than its
// square, and at such sizes its centre sits a few pixels off this even spread: the patch is the
// part of the crop the cell stands for, not its receptive field.
export function cellEdge(index, count, size) {
  return Math.round((index * size) / count);
}

function defaultImage(data, width, height) {
  // ImageData in pages and workers (what the embedders take); a plain object under Node.
  return typeof ImageData === "function" ? new ImageData(data, width, height) : { data, width, height };
}

// The input-sized `image` (ImageData or {data: RGBA bytes, width, height}) with one cell of a
// rows × cols grid greyed at a time, row by row from the top-left: {index, row, col, left, top,
// width, height, pixels}, `pixels` a fresh image each time (the caller may transfer its buffer to a
// worker). A generator, so the page can show each patch as it goes and stop early.
// `span` > 1 greys span × span cells around the cell (cut at the edges), as Zeiler & Fergus's patches
// were larger than their step. Measured on Lite0 (TF.js WASM) with 12 composites of two textures
// (skimage brick/grass/gravel, left half one class, right half another; 24 explanations per head):
// the half whose hiding lowered the class's score more was the class's own half for span 1 in
// 2/24 (dense), 6/24 (kNN), worse than chance: a 32-pixel grey square in a uniform texture adds
// edges of its own and removes little; for span 3 in 15/24 (dense) and 24/24 (kNN). The class
// activation maps found the right half in 24/24 for the dense, linear and kNN heads alike.
export function* occlusionPatches(
  image,
  rows,
  cols,
  { grey = OCCLUSION_GREY, span = 1, makeImage = defaultImage } = {},
) {
  const { data, width, height } = image;
  if (data.length !== width * height * 4) throw new Error("The image's pixels are not width × height RGBA.");
  if (rows > height || cols > width)
    throw new Error(`A ${width} × ${height} image has no ${rows} × ${cols} cells.`);
  const before = Math.floor((span - 1) / 2);
  // The pixel range of the cells first … first + span − 1 of `count`, cut at the edges.
  const range = (first, count, size) => [
    cellEdge(Math.max(0, first - before), count, size),
    cellEdge(Math.min(count, first - before + span), count, size),
  ];
  for (let row = 0; row < rows; row += 1) {
    const [top, bottom] = range(row, rows, height);
    for (let col = 0; col < cols; col += 1) {
      const [left, right] = range(col, cols, width);
      const pixels = new Uint8ClampedArray(data);
      for (let y = top; y < bottom; y += 1) {
        const start = (y * width + left) * 4;
        pixels.fill(grey, start, (y * width + right) * 4);
        for (let alpha = start + 3; alpha < (y * width + right) * 4; alpha += 4) pixels[alpha] = 255;
      }
      yield {
        index: row * cols + col,
        row,
        col,
        left,
        top,
        width: right - left,
        height: bottom - top,
        pixels: makeImage(pixels, width, height),
      };
    }
  }
}

// The score an occlusion test watches, as a function of an embedding: `score(embedding)` → number,
// for the class `classId` of the image whose embedding is `embedding` (unoccluded). The same
// quantity as the class activation map, so the two maps of one image speak of the same thing:
// a dense head's logit (not the probability, which saturates: at 99.9 % hiding any patch moves it
// by almost nothing), a regression head's number, and for a kNN head the cosine with the class's
// reference minus the best cosine with another's, the references taken once from the whole image
// (its votes move in steps of 1/k and would mostly not move at all).
export function occlusionScorer(head, embedding, classId) {
  checkedHead(head, embedding.length, "embedding has");
  const index = classIndex(head, classId);
  if (head.kind !== "knn") return (occluded) => head.outputs(occluded)[index];
  const references = head.classReferences(embedding);
  return (occluded) => contrast(occluded, 0, occluded.length, references, index);
}

// The drop in the class's score when each cell is hidden: baseScore − score, in the order the
// patches came; a cell not measured yet (null or undefined, the run was stopped) is NaN.
export function occlusionValues(baseScore, scores) {
  return Float32Array.from(scores, (score) => (score == null ? NaN : baseScore - score));
}

// Plain words for where a cell is: the 3 × 3 zones of the grid (a 7 × 7 grid splits 2, 3, 2, so
// the centre is its middle 3 × 3). Chosen over "row 2, column 5": a student (and a screen reader
// user, who cannot glance at the grid) knows at once where "top left" is, whatever the grid's
// size; the row and column are given alongside for whoever wants the cell itself.
const ZONES = [
  ["top left", "top", "top right"],
  ["left", "centre", "right"],
  ["bottom left", "bottom", "bottom right"],
];
const ZONE_PHRASES = {
  "top left": "the top left corner",
  top: "the top",
  "top right": "the top right corner",
  left: "the left side",
  centre: "the centre",
  right: "the right side",
  "bottom left": "the bottom left corner",
  bottom: "the bottom",
  "bottom right": "the bottom right corner",
};

// By the cell's centre, so the zones are symmetric on any grid (a 2 × 2 grid has no centre).
function third(index, count) {
  return Math.min(2, Math.floor((3 * (index + 0.5)) / count));
}

export function zoneName(row, col, rows, cols) {
  return ZONES[third(row, rows)][third(col, cols)];
}

// The `n` zones holding the largest values, strongest first, each named by its strongest cell:
// [{zone, row, col, index, value, position}] (row and col from 0; `position` counts from 1 in
// words). Cells whose value is NaN (not measured) are left out.
export function strongestRegions(values, rows, cols, n = 3) {
  const best = new Map();
  values.forEach((value, index) => {
    if (Number.isNaN(value)) return;
    const row = Math.floor(index / cols);
    const col = index % cols;
    const zone = zoneName(row, col, rows, cols);
    if (!best.has(zone) || value > best.get(zone).value)
      best.set(zone, { zone, row, col, index, value, position: `row ${row + 1}, column ${col + 1}` });
  });
  return [...best.values()].sort((a, b) => b.value - a.value || a.index - b.index).slice(0, n);
}

// For a screen reader, under the heatmap: "Strongest evidence for Cat: the centre, then the top
// left corner, then the right side."
export function regionsSentence(values, rows, cols, className, n = 3) {
  const regions = strongestRegions(values, rows, cols, n);
  if (!regions.length) return "No region has been measured yet.";
  const names = regions.map((region) => ZONE_PHRASES[region.zone]).join(", then ");
  return `Strongest evidence for ${className}: ${names}.`;
}

// The sentence that ends an occlusion test: the region whose hiding lowered the score most.
export function occlusionSentence(values, rows, cols) {
  const [strongest] = strongestRegions(values, rows, cols, 1);
  if (!strongest) return "No part of the picture has been hidden yet.";
  if (!(strongest.value > 0))
    return "Hiding any one part did not lower the score: the answer does not rest on a single region.";
  return `Hiding ${ZONE_PHRASES[strongest.zone]} changed the answer most.`;
}
