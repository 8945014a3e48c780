// What the head and explain tests train on: three classes of small synthetic embeddings, each class
// near its own axis, and the training settings that separate them in a few milliseconds on tfjs-core's
// CPU backend.
import { seededRandom } from "../../../templates/app/learning/dataset.js";

export const SIZE = 6;
export const CLASS_IDS = ["a", "b", "c"];
export const DENSE = { type: "dense", hidden_units: [12], activation: "relu", dropout: 0, k: 3 };
export const TRAINING = { epochs: 40, batch_size: 8, learning_rate: 0.05, seed: 7 };

// `count` samples per class, each near its own axis. `noise(random)` draws the other components:
// centred by default; explain's tests pass non-negative noise, as a feature map is after ReLU6.
export function axisSamples(count, seed, noise = (random) => (random() - 0.5) * 0.3) {
  const random = seededRandom(seed);
  return CLASS_IDS.flatMap((classId, axis) =>
    Array.from({ length: count }, (_, n) => {
      const embedding = Float32Array.from({ length: SIZE }, () => noise(random));
      embedding[axis] += 1;
      return { id: `${classId}${n}`, classId, embedding };
    }),
  );
}

// `count` samples of a regression page, drawn from `random` (seededRandom): the number is
// 100 + 50 × the first component.
export function numberSamples(count, random) {
  return Array.from({ length: count }, (_, n) => {
    const x = random();
    const embedding = Float32Array.from({ length: SIZE }, () => random() * 0.05);
    embedding[0] = x;
    return { id: `s${n}`, classId: "value", value: 100 + 50 * x, embedding };
  });
}
