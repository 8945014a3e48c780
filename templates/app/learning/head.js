// The head trained on cached embeddings: a small dense network (Adam, softmax), a k-nearest-
// neighbour vote by cosine similarity, or a dense network with one linear output that predicts a
// number (regression). Each head owns its tensors and disposes them.
import * as tf from "@tensorflow/tfjs-core";
// Training needs the gradients, which the modular tfjs-core does not register by itself.
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import { seededRandom, shuffled } from "./dataset.js";

const ACTIVATIONS = {
  relu: tf.relu,
  tanh: tf.tanh,
  sigmoid: tf.sigmoid,
  elu: tf.elu,
  selu: tf.selu,
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
};

// Keeps the page responsive: give the browser a turn once this much work has run.
const SLICE_MILLISECONDS = 25;

export function yieldToBrowser() {
  if (globalThis.scheduler?.yield) return globalThis.scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

// x·W whose kernel gradient is transpose(x)·dy rather than TF.js's default matMul(x, dy,
// transposeA): measured on the WASM backend, the transposed-operand kernel is ~6× slower than an
// explicit transpose followed by a plain matMul, and it dominated each training step.
const denseProduct = tf.customGrad((x, kernel, save) => {
  save([x, kernel]);
  return {
    value: tf.matMul(x, kernel),
    gradFunc: (dy, [savedX, savedKernel]) => [
      tf.matMul(dy, tf.transpose(savedKernel)),
      tf.matMul(tf.transpose(savedX), dy),
    ],
  };
});

function stackEmbeddings(samples) {
  const size = samples[0].embedding.length;
  const values = new Float32Array(samples.length * size);
  samples.forEach((sample, index) => values.set(sample.embedding, index * size));
  return tf.tensor2d(values, [samples.length, size]);
}

function l2Normalize(matrix) {
  return tf.tidy(() => tf.div(matrix, tf.maximum(tf.norm(matrix, 2, 1, true), 1e-12)));
}

class Head {
  // Class probabilities for one embedding (Float32Array).
  predict(embedding) {
    const x = tf.tensor2d(embedding, [1, embedding.length]);
    try {
      return this.probabilities(x)[0];
    } finally {
      x.dispose();
    }
  }
}

export class DenseHead extends Head {
  constructor(config, embeddingSize, classIds, weights = null) {
    super();
    this.kind = "dense";
    this.config = config; // {hidden_units, activation, dropout}
    this.classIds = classIds;
    const sizes = [embeddingSize, ...config.hidden_units, classIds.length];
    this.layers = [];
    for (let i = 0; i < sizes.length - 1; i += 1) {
      const limit = Math.sqrt(6 / (sizes[i] + sizes[i + 1])); // Glorot uniform
      const kernel = weights
        ? tf.tensor2d(weights[2 * i], [sizes[i], sizes[i + 1]])
        : tf.randomUniform([sizes[i], sizes[i + 1]], -limit, limit, "float32", config.seed + i);
      const bias = weights ? tf.tensor1d(weights[2 * i + 1]) : tf.zeros([sizes[i + 1]]);
      this.layers.push({ kernel: tf.variable(kernel), bias: tf.variable(bias) });
      tf.dispose([kernel, bias]);
    }
  }

  get variables() {
    return this.layers.flatMap((layer) => [layer.kernel, layer.bias]);
  }

  logits(x, training) {
    const activation = ACTIVATIONS[this.config.activation];
    let output = x;
    this.layers.forEach((layer, index) => {
      output = tf.add(denseProduct(output, layer.kernel), layer.bias);
      if (index < this.layers.length - 1) {
        output = activation(output);
        if (training && this.config.dropout > 0) output = tf.dropout(output, this.config.dropout);
      }
    });
    return output;
  }

  // Trains on [{embedding, classId}] samples; calls onEpoch({epoch, loss, accuracy, valLoss,
  // valAccuracy}) after each epoch; stops early when shouldStop() turns true.
  async train(training, validation, options, { onEpoch, shouldStop }) {
    const [x, y] = this.labelled(training);
    const validationSet = validation.length ? this.labelled(validation) : null;
    const optimizer = tf.train.adam(options.learning_rate);
    const random = seededRandom(options.seed);
    const indices = training.map((_, index) => index);
    let sliceStart = performance.now();
    try {
      for (let epoch = 1; epoch <= options.epochs; epoch += 1) {
        const order = shuffled(indices, random);
        for (let start = 0; start < order.length; start += options.batch_size) {
          const batch = tf.tensor1d(order.slice(start, start + options.batch_size), "int32");
          const cost = optimizer.minimize(
            () => this.cost(tf.gather(y, batch), this.logits(tf.gather(x, batch), true)),
            false,
            this.variables,
          );
          tf.dispose([batch, cost]);
          if (performance.now() - sliceStart > SLICE_MILLISECONDS) {
            await yieldToBrowser();
            sliceStart = performance.now();
          }
        }
        // The epoch's measurement and the charts it redraws get a slice of their own: after the
        // last batches' slice they made the longest task of a training (55 ms, measured).
        await yieldToBrowser();
        const [loss, accuracy] = this.lossAndAccuracy(x, y);
        const [valLoss, valAccuracy] = validationSet ? this.lossAndAccuracy(...validationSet) : [null, null];
        onEpoch({ epoch, loss, accuracy, valLoss, valAccuracy });
        await yieldToBrowser();
        sliceStart = performance.now();
        if (shouldStop()) break;
      }
    } finally {
      tf.dispose([x, y, ...(validationSet ?? [])]);
      optimizer.dispose();
    }
  }

  cost(targets, logits) {
    return tf.losses.softmaxCrossEntropy(targets, logits);
  }

  labelled(samples) {
    const x = stackEmbeddings(samples);
    const y = tf.oneHot(
      samples.map((sample) => this.classIds.indexOf(sample.classId)),
      this.classIds.length,
    );
    return [x, y];
  }

  lossAndAccuracy(x, y) {
    return tf.tidy(() => {
      const logits = this.logits(x, false);
      const loss = tf.losses.softmaxCrossEntropy(y, logits);
      const correct = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), "float32"));
      return [loss.dataSync()[0], correct.dataSync()[0]];
    });
  }

  // Probabilities for each row of an [n, d] embedding matrix.
  probabilities(embeddings) {
    return tf.tidy(() => tf.softmax(this.logits(embeddings, false)).arraySync());
  }

  weights() {
    return this.variables.map((variable) => variable.dataSync().slice());
  }

  get embeddingSize() {
    return this.layers[0].kernel.shape[0];
  }

  // True without a hidden layer: each output is then w·embedding + b, linear in the embedding.
  get linear() {
    return this.layers.length === 1;
  }

  // The outputs for one embedding before any softmax: the classes' logits, or the number.
  outputs(embedding) {
    return tf.tidy(() =>
      this.logits(tf.tensor2d(embedding, [1, embedding.length]), false)
        .dataSync()
        .slice(),
    );
  }

  // Output `index` before any softmax (a class's logit; a regression head's number) at one
  // embedding, and its gradient with respect to the embedding: what explain.js needs for the
  // class activation map of any dense head, through the head only (a few milliseconds).
  scoreGradient(embedding, index) {
    return tf.tidy(() => {
      const x = tf.tensor2d(embedding, [1, embedding.length]);
      const output = (input) => tf.reshape(tf.slice(this.logits(input, false), [0, index], [1, 1]), []);
      const { value, grad } = tf.valueAndGrad(output)(x);
      return { score: value.dataSync()[0], gradient: grad.dataSync().slice() };
    });
  }

  toJSON() {
    return { kind: this.kind, config: this.config, classIds: this.classIds, weights: this.weights() };
  }

  dispose() {
    tf.dispose(this.variables);
  }
}

// Dense layers → one linear output, trained (mean squared error) on standardized targets, so that
// the learning rate means the same whatever the unit. Once trained, the standardization is folded
// into the last layer: the stored weights give the number itself, in the author's unit.
export class RegressionHead extends DenseHead {
  constructor(config, embeddingSize, classIds, weights = null) {
    super(config, embeddingSize, classIds.slice(0, 1), weights); // one output: the number
    this.kind = "regression";
    this.scale = { mean: 0, deviation: 1 }; // of the training targets; identity once folded
  }

  async train(training, validation, options, { onEpoch, shouldStop }) {
    const values = training.map((sample) => sample.value);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const deviation = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
    // Equal training values (few samples, the rest held back) are learnt unscaled.
    this.scale = { mean, deviation: deviation || 1 };
    try {
      await super.train(training, validation, options, {
        onEpoch: ({ epoch, loss, accuracy, valLoss, valAccuracy }) =>
          // lossAndAccuracy below gives the mean absolute error in place of the accuracy
          onEpoch({ epoch, loss, mae: accuracy, valLoss, valMae: valAccuracy }),
        shouldStop,
      });
    } finally {
      this.foldScale();
    }
  }

  foldScale() {
    const { mean, deviation } = this.scale;
    const last = this.layers[this.layers.length - 1];
    tf.tidy(() => {
      last.kernel.assign(tf.mul(last.kernel, deviation));
      last.bias.assign(tf.add(tf.mul(last.bias, deviation), mean));
    });
    this.scale = { mean: 0, deviation: 1 };
  }

  labelled(samples) {
    const { mean, deviation } = this.scale;
    const targets = samples.map((sample) => (sample.value - mean) / deviation);
    return [stackEmbeddings(samples), tf.tensor2d(targets, [samples.length, 1])];
  }

  // What DenseHead.train minimizes: the squared error on the standardized targets.
  cost(targets, logits) {
    return tf.losses.meanSquaredError(targets, logits);
  }

  // [loss on the standardized targets, mean absolute error in the author's unit].
  lossAndAccuracy(x, y) {
    return tf.tidy(() => {
      const output = this.logits(x, false);
      const loss = tf.losses.meanSquaredError(y, output);
      const error = tf.mul(tf.mean(tf.abs(tf.sub(output, y))), this.scale.deviation);
      return [loss.dataSync()[0], error.dataSync()[0]];
    });
  }

  // [[value]] for each row of an [n, d] embedding matrix.
  probabilities(embeddings) {
    return tf.tidy(() => this.logits(embeddings, false).arraySync());
  }
}

export class KnnHead extends Head {
  constructor(config, classIds) {
    super();
    this.kind = "knn";
    this.config = config; // {k}
    this.classIds = classIds;
    this.matrix = null; // normalized training embeddings [n, d]
    this.labels = [];
  }

  async train(training, validation, _options, { onEpoch }) {
    this.fit(training);
    onEpoch({
      epoch: 1,
      loss: null,
      accuracy: evaluate(this, training).accuracy,
      valLoss: null,
      valAccuracy: evaluate(this, validation).accuracy,
    });
  }

  fit(training) {
    tf.dispose(this.matrix);
    const raw = stackEmbeddings(training);
    this.matrix = l2Normalize(raw);
    raw.dispose();
    this.labels = training.map((sample) => this.classIds.indexOf(sample.classId));
  }

  probabilities(embeddings) {
    const similarities = tf.tidy(() =>
      tf.matMul(l2Normalize(embeddings), this.matrix, false, true).arraySync(),
    );
    const k = Math.min(this.config.k, this.labels.length);
    return similarities.map((row) => {
      const votes = new Array(this.classIds.length).fill(0);
      const nearest = row
        .map((similarity, index) => [similarity, index])
        .sort((a, b) => b[0] - a[0])
        .slice(0, k);
      for (const [, index] of nearest) votes[this.labels[index]] += 1 / k;
      return votes;
    });
  }

  toJSON() {
    return { kind: this.kind, config: this.config, classIds: this.classIds };
  }

  // null until fitted.
  get embeddingSize() {
    return this.matrix?.shape[1] ?? null;
  }

  // For each class, the unit direction of the mean of its k training samples most similar to
  // `embedding` (the samples that would vote for it), or null for a class without samples: what
  // explain.js compares the image's regions with.
  classReferences(embedding) {
    const similarities = tf.tidy(() =>
      tf
        .matMul(l2Normalize(tf.tensor2d(embedding, [1, embedding.length])), this.matrix, false, true)
        .dataSync(),
    );
    return this.classIds.map((_, label) => {
      const nearest = this.labels
        .map((sampleLabel, index) => [sampleLabel, similarities[index], index])
        .filter(([sampleLabel]) => sampleLabel === label)
        .sort((a, b) => b[1] - a[1])
        .slice(0, this.config.k)
        .map(([, , index]) => index);
      if (!nearest.length) return null;
      return tf.tidy(() => {
        const mean = tf.mean(tf.gather(this.matrix, tf.tensor1d(nearest, "int32")), 0, true);
        return l2Normalize(mean).dataSync().slice();
      });
    });
  }

  dispose() {
    tf.dispose(this.matrix);
    this.matrix = null;
  }
}

export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i] > values[best]) best = i;
  return best;
}

export function createHead(headConfig, trainingConfig, embeddingSize, classIds) {
  if (headConfig.type === "knn") return new KnnHead({ k: headConfig.k }, classIds);
  const config = {
    hidden_units: headConfig.hidden_units,
    activation: headConfig.activation,
    dropout: headConfig.dropout,
    seed: trainingConfig.seed,
  };
  const Network = headConfig.type === "regression" ? RegressionHead : DenseHead;
  return new Network(config, embeddingSize, classIds);
}

// Rebuilds a stored head; a knn head is refitted on the current samples.
export function restoreHead(stored, embeddingSize, samples) {
  if (stored.kind === "knn") {
    const head = new KnnHead(stored.config, stored.classIds);
    head.fit(samples.filter((sample) => stored.classIds.includes(sample.classId)));
    return head;
  }
  const Network = stored.kind === "regression" ? RegressionHead : DenseHead;
  return new Network(stored.config, embeddingSize, stored.classIds, stored.weights);
}

// How far a regression head's numbers are from the samples' own, on `samples`: mean absolute
// error, root mean squared error and R² (null below two samples or when all values are equal),
// with each sample's pair for the plots.
export function evaluateRegression(head, samples) {
  const points = [];
  if (samples.length) {
    const x = stackEmbeddings(samples);
    const outputs = head.probabilities(x);
    x.dispose();
    samples.forEach((sample, index) =>
      points.push({ sampleId: sample.id, actual: sample.value, predicted: outputs[index][0] }),
    );
  }
  const count = points.length;
  if (!count) return { task: "regression", count, mae: null, rmse: null, r2: null, points };
  const mean = points.reduce((sum, point) => sum + point.actual, 0) / count;
  const squared = points.reduce((sum, point) => sum + (point.predicted - point.actual) ** 2, 0);
  const total = points.reduce((sum, point) => sum + (point.actual - mean) ** 2, 0);
  return {
    task: "regression",
    count,
    mae: points.reduce((sum, point) => sum + Math.abs(point.predicted - point.actual), 0) / count,
    rmse: Math.sqrt(squared / count),
    r2: count > 1 && total > 0 ? 1 - squared / total : null,
    points,
  };
}

// Per-class accuracy and the confusion matrix (rows: true class, columns: predicted class).
export function evaluate(head, samples) {
  const size = head.classIds.length;
  const confusion = Array.from({ length: size }, () => new Array(size).fill(0));
  if (samples.length) {
    const x = stackEmbeddings(samples);
    const probabilities = head.probabilities(x);
    x.dispose();
    samples.forEach((sample, index) => {
      confusion[head.classIds.indexOf(sample.classId)][argmax(probabilities[index])] += 1;
    });
  }
  const perClass = confusion.map((row, index) => {
    const total = row.reduce((sum, value) => sum + value, 0);
    return total ? row[index] / total : null;
  });
  const correct = confusion.reduce((sum, row, index) => sum + row[index], 0);
  return {
    confusion,
    perClass,
    accuracy: samples.length ? correct / samples.length : null,
    count: samples.length,
  };
}
