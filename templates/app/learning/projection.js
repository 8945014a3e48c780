// Projections of embeddings to two dimensions, pure (no DOM, no TF.js): PCA by power iteration,
// and the place of a new embedding among projected samples. For the map of the examples.

// A map needs the components to within a fraction of a degree, not to machine precision: the
// iteration stops once both move less than that (about 0.1°) or after ITERATIONS steps.
const ITERATIONS = 100;
const TOLERANCE = 1e-6;

function dot(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i] * b[i];
  return sum;
}

function normalize(vector) {
  const length = Math.sqrt(dot(vector, vector)) || 1;
  for (let i = 0; i < vector.length; i += 1) vector[i] /= length;
  return vector;
}

// `vector` minus its part along `unit` (a unit vector).
function orthogonalize(vector, unit) {
  const along = dot(vector, unit);
  for (let i = 0; i < vector.length; i += 1) vector[i] -= along * unit[i];
  return vector;
}

// C·a and C·b for the covariance C of the centred rows of `vectors` (up to a factor), in one pass
// over the data and without forming C: Σ (x − m)((x − m)·v) = Σ x s − m Σ s, with s = x·v − m·v.
function covarianceTimes(vectors, mean, a, b) {
  const size = a.length;
  const outA = new Float64Array(size);
  const outB = new Float64Array(size);
  const shiftA = dot(mean, a);
  const shiftB = dot(mean, b);
  let totalA = 0;
  let totalB = 0;
  for (const row of vectors) {
    let scoreA = -shiftA;
    let scoreB = -shiftB;
    for (let i = 0; i < size; i += 1) {
      scoreA += row[i] * a[i];
      scoreB += row[i] * b[i];
    }
    totalA += scoreA;
    totalB += scoreB;
    for (let i = 0; i < size; i += 1) {
      outA[i] += scoreA * row[i];
      outB[i] += scoreB * row[i];
    }
  }
  for (let i = 0; i < size; i += 1) {
    outA[i] -= totalA * mean[i];
    outB[i] -= totalB * mean[i];
  }
  return [outA, outB];
}

function startVector(size, salt) {
  const v = new Float64Array(size);
  for (let i = 0; i < size; i += 1) v[i] = (Math.sin((i + 1) * (12.9898 + salt)) * 43758.5453) % 1;
  return normalize(v);
}

// A component's sign is arbitrary: fix it so that the map does not flip when a sample is added.
function fixSign(component, previous) {
  const reference = previous
    ? dot(component, previous)
    : component.reduce((best, value) => (Math.abs(value) > Math.abs(best) ? value : best), 0);
  if (reference < 0) for (let i = 0; i < component.length; i += 1) component[i] = -component[i];
  return component;
}

// The two leading principal components of `vectors` (Float32Arrays of one length), by subspace
// power iteration on the centred data: {mean, components: [Float64Array, Float64Array]}.
// `previous` (an earlier result) warm-starts it, so a map updated for one more sample costs a few
// iterations and keeps its orientation.
export function pca2(vectors, previous = null) {
  const size = vectors[0]?.length ?? 0;
  const mean = new Float64Array(size);
  for (const row of vectors) for (let i = 0; i < size; i += 1) mean[i] += row[i];
  for (let i = 0; i < size; i += 1) mean[i] /= vectors.length || 1;
  const usable = previous && previous.mean.length === size;
  let first = usable ? Float64Array.from(previous.components[0]) : startVector(size, 0);
  let second = usable ? Float64Array.from(previous.components[1]) : startVector(size, 1);
  orthogonalize(second, normalize(first));
  normalize(second);
  let iterations = 0;
  while (iterations < ITERATIONS && vectors.length > 1) {
    iterations += 1;
    const [timesFirst, timesSecond] = covarianceTimes(vectors, mean, first, second);
    // Rayleigh–Ritz: within the plane of the two, turn them to the covariance's own axes, so that
    // each converges as fast as the plane does (two near-equal components would otherwise turn
    // slowly inside it).
    const h11 = dot(first, timesFirst);
    const h12 = dot(first, timesSecond);
    const h22 = dot(second, timesSecond);
    const angle = 0.5 * Math.atan2(2 * h12, h11 - h22);
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    const turnedFirst = timesFirst.map((value, i) => c * value + s * timesSecond[i]);
    const turnedSecond = timesSecond.map((value, i) => c * value - s * timesFirst[i]);
    const nextFirst = normalize(turnedFirst);
    const nextSecond = normalize(orthogonalize(turnedSecond, nextFirst));
    const change = 2 - Math.abs(dot(nextFirst, first)) - Math.abs(dot(nextSecond, second));
    first = nextFirst;
    second = nextSecond;
    if (change < TOLERANCE) break;
  }
  return {
    mean,
    iterations,
    components: [
      fixSign(first, usable && previous.components[0]),
      fixSign(second, usable && previous.components[1]),
    ],
  };
}

// One embedding's place on the PCA map: [x, y].
export function pcaPoint(model, embedding) {
  const [first, second] = model.components;
  return [dot(embedding, first) - dot(model.mean, first), dot(embedding, second) - dot(model.mean, second)];
}

// Where an embedding falls among samples already placed: the similarity-weighted mean of the
// places of its `count` nearest samples (cosine). `neighbors` is [{place: [x, y], similarity}].
export function placeAmong(neighbors) {
  let x = 0;
  let y = 0;
  let total = 0;
  for (const { place, similarity } of neighbors) {
    const weight = Math.max(similarity, 0) ** 4 + 1e-9;
    x += weight * place[0];
    y += weight * place[1];
    total += weight;
  }
  return total ? [x / total, y / total] : null;
}

// Each class's centre: Map(key → [x, y]) of the mean of its points' places.
export function centres(points, keyOf) {
  const sums = new Map();
  for (const point of points) {
    const key = keyOf(point);
    const sum = sums.get(key) ?? { x: 0, y: 0, n: 0 };
    sum.x += point.x;
    sum.y += point.y;
    sum.n += 1;
    sums.set(key, sum);
  }
  return new Map([...sums].map(([key, { x, y, n }]) => [key, [x / n, y / n]]));
}
