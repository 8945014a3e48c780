// The visitor's classes and samples. A sample keeps its embedding (computed once, when it is
// added), a small thumbnail for the page and the input-size crop it was embedded from (so the
// embedding can be recomputed if the author ships another base model). No full frames are kept.

// A version-4 UUID. crypto.randomUUID exists only in secure contexts (https, localhost), and a
// school server on plain http is not one; crypto.getRandomValues exists everywhere.
export function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Deterministic PRNG (mulberry32) so a seed gives the same split and shuffles every time.
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled(items, random) {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

export class Dataset {
  constructor(classes = [], samples = []) {
    this.classes = classes; // [{id, name}] in display order
    this.samples = samples; // [{id, classId, embedding: Float32Array, thumb: Blob, image: Blob}]
  }

  classById(id) {
    return this.classes.find((item) => item.id === id);
  }

  hasName(name, exceptId = null) {
    const wanted = name.trim().toLocaleLowerCase();
    return this.classes.some((item) => item.id !== exceptId && item.name.toLocaleLowerCase() === wanted);
  }

  samplesOf(classId) {
    return this.samples.filter((sample) => sample.classId === classId);
  }

  counts() {
    const counts = Object.fromEntries(this.classes.map((item) => [item.id, 0]));
    for (const sample of this.samples) counts[sample.classId] += 1;
    return counts;
  }

  withClass(item) {
    return new Dataset([...this.classes, item], this.samples);
  }

  withRenamed(id, name) {
    return new Dataset(
      this.classes.map((item) => (item.id === id ? { ...item, name } : item)),
      this.samples,
    );
  }

  withoutClass(id) {
    return new Dataset(
      this.classes.filter((item) => item.id !== id),
      this.samples.filter((sample) => sample.classId !== id),
    );
  }

  withoutSamplesOf(classId) {
    return new Dataset(
      this.classes,
      this.samples.filter((sample) => sample.classId !== classId),
    );
  }

  withSamples(added) {
    return new Dataset(this.classes, [...this.samples, ...added]);
  }

  withoutSample(id) {
    return new Dataset(
      this.classes,
      this.samples.filter((sample) => sample.id !== id),
    );
  }

  // Stratified, seeded split: each class gives the same share of its samples to validation, but
  // always keeps at least one for training.
  split(validationFraction, seed) {
    const random = seededRandom(seed);
    const training = [];
    const validation = [];
    for (const item of this.classes) {
      const own = shuffled(this.samplesOf(item.id), random);
      const held = Math.min(Math.floor(own.length * validationFraction), Math.max(own.length - 1, 0));
      validation.push(...own.slice(0, held));
      training.push(...own.slice(held));
    }
    return { training, validation };
  }
}

// How alike two embeddings are: their cosine similarity (0 when one of them is all zeros).
export function cosineSimilarity(a, b) {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i += 1) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / (Math.sqrt(aa * bb) || 1);
}

const norms = new WeakMap();

function norm(vector) {
  let sum = 0;
  for (let i = 0; i < vector.length; i += 1) sum += vector[i] * vector[i];
  return Math.sqrt(sum) || 1;
}

function sampleNorm(sample) {
  if (!norms.has(sample)) norms.set(sample, norm(sample.embedding));
  return norms.get(sample);
}

// The samples whose embeddings are closest (cosine) to `embedding`: why a prediction was made.
export function nearest(samples, embedding, count) {
  const own = norm(embedding);
  const scored = samples.map((sample) => {
    let dot = 0;
    for (let i = 0; i < embedding.length; i += 1) dot += sample.embedding[i] * embedding[i];
    return { sample, similarity: dot / (own * sampleNorm(sample)) };
  });
  scored.sort((a, b) => b.similarity - a.similarity);
  return scored.slice(0, count);
}

const familiarities = new WeakMap(); // dataset → Map(class id → typical similarity)

// How similar a class's samples typically are to each other: the median, over its samples, of
// each one's similarity to its nearest other sample of the class; null with fewer than two.
// Computed once per dataset (a dataset never changes: a change makes a new one).
export function typicalSimilarity(dataset, classId) {
  if (!familiarities.has(dataset)) familiarities.set(dataset, new Map());
  const known = familiarities.get(dataset);
  if (!known.has(classId)) {
    const own = dataset.samplesOf(classId);
    const best = own.map((sample) => {
      const others = own.filter((other) => other !== sample);
      return others.length ? nearest(others, sample.embedding, 1)[0].similarity : null;
    });
    const values = best.filter((value) => value !== null).sort((a, b) => a - b);
    known.set(classId, values.length ? values[Math.floor(values.length / 2)] : null);
  }
  return known.get(classId);
}
